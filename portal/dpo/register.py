"""The register of processing (GDPR art. 30) of one organisation, generated and versioned.

What the portal knows is generated from its actual configuration and data:
the purposes (by kind of organisation), the legal grounds the organisation's
cases rest on, the data categories the portal knows, the categories of people
it holds, the recipients (the partner organisations of shared cases), the
retention periods that are configured and the security measures (encryption,
key provider, logging). What the portal cannot know (processor agreements, the
DPIA reference) the organisation's FG enters. Whenever the result differs from
the last stored version, a new version is stored, so the register's history is
kept. The register names kinds and organisations, never a child or a person.

Reading it follows the FG's scope (``portal.dpo.scope``): the organisation's
own FG and the supervisor read it, only the organisation's own FG edits it.
Someone of the organisation without the FG role is refused (403); anyone else
gets 404. Every read, export and edit is an access record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.cases.gate import is_uuid
from portal.cases.models import Case, CaseParticipant
from portal.consent.engine import DEFAULT_CATEGORIES
from portal.consent.models import CaseGround
from portal.consent.status import ordered_categories
from portal.dpo.models import ProcessingRegisterVersion
from portal.dpo.scope import fg_emails, fg_organisations, supervised
from portal.errors import N_, AccessDenied, InvalidInput
from portal.people.models import (
    Child,
    ChildRelation,
    Organisation,
    OrganisationKind,
    Person,
    Role,
)
from portal.policy import Action, Actor, Allow, Decision, Deny, decide
from portal.retention.models import DataKind, RetentionPolicy
from portal.settings import Settings

AGREEMENTS_MAX = 4000
DPIA_MAX = 200
ENTERED_FIELDS = ("processor_agreements", "dpia_reference")

# In Dutch: the register is the organisation's own document (as the minutes PDF).
PURPOSES: Mapping[str, tuple[str, ...]] = {
    OrganisationKind.SCHOOL: (
        "Multidisciplinair overleg (MDO) over passende ondersteuning van een leerling "
        "(zorgplicht passend onderwijs, Wet op het primair/voortgezet onderwijs).",
        "Afspraken vastleggen en opvolgen met ouders, leerling en ketenpartners.",
    ),
    OrganisationKind.YOUTH_CARE: (
        "Multidisciplinair overleg (MDO) over jeugdhulp aan een kind en gezin (Jeugdwet).",
        "Afspraken vastleggen en opvolgen met ouders, jeugdige en ketenpartners.",
    ),
    OrganisationKind.SAMENWERKINGSVERBAND: (
        "Toewijzen van extra ondersteuning en toelaatbaarheidsverklaringen (passend onderwijs).",
    ),
    OrganisationKind.MUNICIPALITY: (
        "Afstemming van gemeentelijke jeugdhulp met school en zorgaanbieders (Jeugdwet).",
    ),
    OrganisationKind.PORTAL: (
        "Beheer en beveiliging van het MDO-portaal in opdracht van de aangesloten organisaties "
        "(verwerker).",
        "Toezicht op het gebruik van het portaal (inzagelog, uitzonderingen).",
    ),
}
ALWAYS = ("Verantwoording: elke inzage van dossiergegevens wordt vastgelegd (NEN 7513).",)
GROUNDS = {
    "consent": "Toestemming (AVG art. 6 lid 1 sub a; art. 9 lid 2 sub a)",
    "meldrecht_veilig_thuis": "Meldrecht Veilig Thuis (Wmo 2015 art. 5.2.6)",
    "verwijsindex": "Meldrecht Verwijsindex risicojongeren (Jeugdwet art. 7.1.4.1)",
    "raad_kinderbescherming": "Meldrecht Raad voor de Kinderbescherming (BW 1:240)",
    "tlv_or_extra_support": "Aanvraag extra ondersteuning of TLV (wettelijke taak)",
    "ots": "Uitvoering ondertoezichtstelling (Jeugdwet art. 7.3.11)",
    "legal_obligation": "Wettelijke verplichting (AVG art. 6 lid 1 sub c)",
    "vital_interest": "Vitaal belang: ernstige zorgen over de veiligheid (AVG art. 6 lid 1 sub d)",
    "safety_exception": "Uitzondering bij ernstige zorgen over de veiligheid (break-glass)",
}
CATEGORIES = {
    "school_progress": "Schoolvorderingen", "behaviour": "Gedrag",
    "social_emotional": "Sociaal-emotioneel", "health": "Gezondheid (bijzonder)",
    "family_situation": "Gezinssituatie", "other": "Overig",
}
IDENTIFYING = ("Naam en geboortedatum van het kind (versleuteld opgeslagen)",
               "Naam en e-mailadres van ouders, verzorgers en professionals",
               "Inzagelog: wie wanneer welke gegevens inzag, met grondslag")
KEY_PROVIDERS = {
    "local": "Lokaal sleutelbestand (alleen ontwikkeling)",
    "secret-file": "Sleutel uit een geheim bestand (secret)",
    "pkcs11": "Hardware security module (PKCS#11)",
}


@dataclass(frozen=True)
class RegisterPage:
    organisation_id: str
    organisation_name: str
    current: ProcessingRegisterVersion
    history: list[tuple[int, datetime, str]]  # (version, when, by whom)
    may_edit: bool


# -- who may read and edit --------------------------------------------------------------------

def _decide(db: Session, actor: Actor, organisation_id: str, edit: bool) -> Decision:
    organisation = db.get(Organisation, organisation_id) if is_uuid(organisation_id) else None
    if organisation is None:
        return Deny(reason="no_such_organisation", hide=True)
    decision = supervised(db, actor, decide(actor, Action.DPO_REVIEW))
    if isinstance(decision, Deny):
        # A colleague learns the register exists (403); anyone else nothing (404).
        return Deny(reason=decision.reason, hide=organisation_id not in actor.organisation_ids)
    own = {org for org, role in actor.memberships if role == Role.DPO}
    if organisation_id in own:
        # The organisation's own FG: no supervision was needed for this.
        return Allow(basis="role:dpo;organisation")
    if edit or organisation_id not in fg_organisations(db, actor):
        return Deny(reason="no_such_organisation", hide=True)
    return decision


def _authorize(db: Session, who: Requester, actor: Actor, now: datetime, organisation_id: str,
               event_type: str, action: str, edit: bool = False) -> None:
    decision = _decide(db, actor, organisation_id, edit)
    record(db, who, now, event_type=event_type, action=action, decision=decision,
           object_type="organisation",
           object_id=organisation_id if is_uuid(organisation_id) else None,
           purpose_of_use="administration")
    if isinstance(decision, Deny):
        raise AccessDenied(decision)


# -- generating ---------------------------------------------------------------------------------

def _case_ids(organisation_id: str) -> Any:
    taking_part = select(CaseParticipant.case_id).where(
        CaseParticipant.organisation_id == organisation_id)
    return select(Case.id).where((Case.organisation_id == organisation_id)
                                 | Case.id.in_(taking_part))


def generate(db: Session, settings: Settings, organisation: Organisation) -> dict[str, Any]:
    """The register as the portal's configuration and data make it (sorted, JSON-ready)."""
    cases = _case_ids(organisation.id)
    grounds = set(db.scalars(select(Case.legal_basis).where(Case.id.in_(cases)).distinct()))
    grounds |= set(db.scalars(select(CaseGround.basis).where(CaseGround.case_id.in_(cases))
                              .distinct()))
    partners = db.execute(
        select(Organisation.id, Organisation.name, Organisation.kind).where(
            Organisation.id.in_(select(CaseParticipant.organisation_id).where(
                CaseParticipant.case_id.in_(cases))) | Organisation.id.in_(
                select(Case.organisation_id).where(Case.id.in_(cases))),
            Organisation.id != organisation.id).order_by(Organisation.name)).all()
    children = select(Case.child_id).where(Case.id.in_(cases), Case.child_id.is_not(None))
    has_pupils = db.scalar(select(Child.id).where(
        (Child.school_id == organisation.id) | Child.id.in_(children)).limit(1)) is not None
    has_family = db.scalar(select(ChildRelation.id).join(Child, Child.id == ChildRelation.child_id)
                           .where((Child.school_id == organisation.id)
                                  | Child.id.in_(children)).limit(1)) is not None
    people = ["Professionals van de organisatie (gebruikers van het portaal)"]
    if has_pupils:
        people.insert(0, "Leerlingen / jeugdigen over wie een MDO wordt gehouden")
    if has_family:
        people.insert(1, "Ouders, verzorgers en pleegouders van die kinderen")
    return {
        "organisation": {"id": organisation.id, "name": organisation.name,
                         "kind": organisation.kind.value},
        "fg": fg_emails(db, {organisation.id}),
        "purposes": [*PURPOSES.get(organisation.kind, ()), *ALWAYS],
        "legal_grounds": [{"code": str(g), "text": GROUNDS.get(str(g), str(g))}
                          for g in sorted(str(g) for g in grounds)],
        "data_categories": [{"code": c, "text": CATEGORIES.get(c, c)}
                            for c in ordered_categories(DEFAULT_CATEGORIES)],
        "identifying_data": list(IDENTIFYING),
        "people": people,
        "recipients": [{"id": i, "name": n, "kind": str(k)} for i, n, k in partners],
        "retention": [
            {"what": "Inzagelog", "period": f"minimaal {settings.audit_retention_years} jaar"},
            *_retention(db, organisation.id),
        ],
        "security": [
            "Versleuteling: envelope-encryptie met een datasleutel per document "
            "(geauthenticeerde versleuteling, gebonden aan casus, document en versie)",
            f"Sleutelbeheer: {KEY_PROVIDERS.get(settings.key_provider, settings.key_provider)}",
            "Wissen: vernietigen van de datasleutels (crypto-shredding)",
            "Logging: elke inzage, toegestaan of geweigerd, in een hash-keten met "
            "verificatiecommando (NEN 7513)",
            "Externe getuige van het inzagelog: " + (
                "ingesteld" if settings.audit_checkpoint_url else "niet ingesteld"),
            "Inloggen via single sign-on (OIDC); het FG vereist betrouwbaarheidsniveau "
            f"{settings.effective_audit_dpo_acr}",
        ],
    }


COUNTED_FROM = {"case_closed": "het sluiten van de casus",
                "pupil_left": "het vertrek van de leerling", "last_entry": "de laatste aanvulling"}


def _retention(db: Session, organisation_id: str) -> list[dict[str, str]]:
    """The retention periods the board confirmed (``portal.retention``), or that none is."""
    policy = db.scalars(select(RetentionPolicy).where(
        RetentionPolicy.organisation_id == organisation_id,
        RetentionPolicy.data_kind == DataKind.CASE_FILE)).first()
    if policy is None:
        return [{"what": "Dossiergegevens van een casus",
                 "period": "nog geen termijn bevestigd door het bestuur: er wordt niets "
                           "automatisch gewist (wissen door de voorzitter: crypto-shredding)"}]
    return [{"what": "Dossiergegevens van een casus",
             "period": f"{policy.period_months} maanden na "
                       f"{COUNTED_FROM.get(str(policy.counted_from), str(policy.counted_from))}, "
                       "daarna crypto-shredding (bevestigd door het bestuur)"}]


def _latest(db: Session, organisation_id: str) -> ProcessingRegisterVersion | None:
    return db.scalars(select(ProcessingRegisterVersion).where(
        ProcessingRegisterVersion.organisation_id == organisation_id)
        .order_by(ProcessingRegisterVersion.version.desc()).limit(1)).first()


def _store(db: Session, organisation_id: str, content: dict[str, Any], now: datetime,
           person_id: str) -> ProcessingRegisterVersion:
    """The current version: the last stored one when nothing changed, else a new one."""
    latest = _latest(db, organisation_id)
    if latest is not None and latest.content == content:
        return latest
    row = ProcessingRegisterVersion(
        organisation_id=organisation_id, version=(latest.version + 1) if latest else 1,
        created_at=now, created_by=person_id, content=content)
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        # Another request stored this version number first: theirs stands when it
        # says the same; otherwise this request fails and is tried again by the user.
        again = _latest(db, organisation_id)
        if again is None or again.content != content:
            raise
        return again
    return row


def _current(db: Session, settings: Settings, organisation_id: str, now: datetime,
             actor: Actor, entered: Mapping[str, str] | None = None
             ) -> ProcessingRegisterVersion:
    organisation = db.get_one(Organisation, organisation_id)
    latest = _latest(db, organisation_id)
    if entered is None:
        entered = dict(latest.content.get("entered", {})) if latest else {}
    content = {**generate(db, settings, organisation),
               "entered": {name: entered.get(name, "") for name in ENTERED_FIELDS}}
    return _store(db, organisation_id, content, now, actor.person_id)


# -- the pages ---------------------------------------------------------------------------------

def register_page(db: Session, settings: Settings, who: Requester, actor: Actor,
                  now: datetime, organisation_id: str) -> RegisterPage:
    _authorize(db, who, actor, now, organisation_id, "processing_register.read", "read")
    current = _current(db, settings, organisation_id, now, actor)
    rows = db.execute(select(ProcessingRegisterVersion.version,
                             ProcessingRegisterVersion.created_at, Person.display_name)
                      .outerjoin(Person, Person.id == ProcessingRegisterVersion.created_by)
                      .where(ProcessingRegisterVersion.organisation_id == organisation_id)
                      .order_by(ProcessingRegisterVersion.version.desc())).all()
    own = {org for org, role in actor.memberships if role == Role.DPO}
    return RegisterPage(organisation_id=organisation_id,
                        organisation_name=current.content["organisation"]["name"],
                        current=current, history=[(v, at, n or "") for v, at, n in rows],
                        may_edit=organisation_id in own)


def version_for_export(db: Session, settings: Settings, who: Requester, actor: Actor,
                       now: datetime, organisation_id: str, kind: str,
                       version: str = "") -> ProcessingRegisterVersion:
    """The current version (or an earlier one by number) for the JSON or PDF export."""
    _authorize(db, who, actor, now, organisation_id, f"processing_register.export.{kind}",
               "read")
    current = _current(db, settings, organisation_id, now, actor)
    if not version:
        return current
    wanted = db.scalar(select(ProcessingRegisterVersion).where(
        ProcessingRegisterVersion.organisation_id == organisation_id,
        ProcessingRegisterVersion.version == (int(version) if version.isdigit() else -1)))
    if wanted is None:
        raise InvalidInput({"version": N_("There is no such version.")})
    return wanted


def update_entered(db: Session, settings: Settings, who: Requester, actor: Actor,
                   now: datetime, organisation_id: str,
                   form: Mapping[str, str]) -> ProcessingRegisterVersion:
    """The FG fills in what the portal cannot know; a new version when anything changed."""
    _authorize(db, who, actor, now, organisation_id, "processing_register.update", "update",
               edit=True)
    entered = {name: str(form.get(name, "")).strip() for name in ENTERED_FIELDS}
    errors = {}
    if len(entered["processor_agreements"]) > AGREEMENTS_MAX:
        errors["processor_agreements"] = N_("The text is too long.")
    if len(entered["dpia_reference"]) > DPIA_MAX:
        errors["dpia_reference"] = N_("The text is too long.")
    if errors:
        raise InvalidInput(errors)
    return _current(db, settings, organisation_id, now, actor, entered)


def register_list(db: Session, who: Requester, actor: Actor, now: datetime
                  ) -> list[tuple[str, str]]:
    """The organisations whose register this FG keeps or reads (id, name)."""
    decision = supervised(db, actor, decide(actor, Action.DPO_REVIEW))
    record(db, who, now, event_type="processing_register.list", action="read",
           decision=decision, purpose_of_use="administration")
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    return [(i, n) for i, n in db.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.id.in_(fg_organisations(db, actor))).order_by(Organisation.name))]
