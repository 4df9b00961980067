"""Converting an anonymous case into a named case, once the required consent exists.

The chair picks the child and records the signed consent form(s) in the same
step: the engine must find the consent complete for every chosen category and
recipient (or the case rests on a legal ground) before anything is written.
The case keeps its id, so its history stays linked; the conversion is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.cases.creation import selectable_children
from portal.cases.gate import authorize, is_uuid
from portal.cases.models import Case, LegalBasis
from portal.consent.access import ConsentFacts, engine_case, may_consent
from portal.consent.engine import CHILD, Basis, Consent, ConsentInputError, decide
from portal.consent.facts import load_consent_facts
from portal.consent.models import CaseConversion, ConsenterKind, ConsentMethod, ConsentRecord
from portal.consent.service import DEFAULT_VALIDITY, MAX_VALIDITY, ConsentForm
from portal.consent.status import ordered_categories
from portal.consent.summary import Label, case_recipients, labels_for, person_names
from portal.errors import N_, InvalidInput
from portal.people.models import Child
from portal.policy import Action, Actor
from portal.search import index as search_index
from portal.vault.service import Vault


@dataclass(frozen=True)
class ConversionPage:
    case_id: str
    children: tuple[tuple[str, str], ...]  # (child id, name)
    child_id: str | None
    consenters: tuple[tuple[str, str], ...]  # (person id or CHILD, name) who can consent
    categories: tuple[str, ...]
    recipients: tuple[Label, ...]
    consent_needed: bool
    today: date

    @property
    def default_until(self) -> date:
        return self.today + DEFAULT_VALIDITY


def conversion_page(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                    case_id: str, child_id: str | None) -> ConversionPage:
    facts = authorize(db, who, actor, now, Action.CASE_CONVERT, case_id,
                      event_type="case.convert.form", action_code="read", vault=vault)
    children = tuple(selectable_children(db, vault, who, actor, now))
    chosen = child_id if child_id in {c for c, _ in children} else None
    case = db.get_one(Case, facts.case_id)
    consenters: tuple[tuple[str, str], ...] = ()
    categories: tuple[str, ...] = ()
    today = now.date()
    if chosen:
        consent = load_consent_facts(db, vault, case, now, child_id=chosen)
        assert consent is not None
        eligible = [a.id for a in consent.adults if may_consent(consent, a.id)]
        names = person_names(db, vault, eligible)
        consenters = tuple((a, names.get(a, "")) for a in eligible)
        if may_consent(consent, CHILD):
            consenters += ((CHILD, ""),)
        categories = ordered_categories(consent.categories)
        today = consent.on
    options = case_recipients(db, facts.case_id)
    labels = labels_for(db, vault, options)
    return ConversionPage(case_id=facts.case_id, children=children, child_id=chosen,
                          consenters=consenters, categories=categories,
                          recipients=tuple(labels[o] for o in options),
                          consent_needed=case.legal_basis is LegalBasis.CONSENT, today=today)


def convert(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
            case_id: str, child_id: str, consenters: list[str], form: ConsentForm) -> None:
    """Link the child, record the signed consents, and keep the conversion on record."""
    facts = authorize(db, who, actor, now, Action.CASE_CONVERT, case_id,
                      event_type="case.convert", action_code="update", vault=vault)
    case = db.get_one(Case, facts.case_id)
    schools = actor.organisations_with(Action.CHILD_LIST)
    child = db.get(Child, child_id) if is_uuid(child_id) else None
    if child is None or child.school_id not in schools:
        raise InvalidInput({"child_id": N_("Choose a child.")})
    current = load_consent_facts(db, vault, case, now, child_id=child.id)
    assert current is not None
    categories = tuple(c for c in ordered_categories(current.categories)
                       if c in form.categories)
    recipients = tuple(sorted(set(form.recipients) & set(case_recipients(db, case.id))))
    chosen = [c for c in dict.fromkeys(consenters) if may_consent(current, c)]
    until = _date(form.valid_until)
    errors: dict[str, str] = {}
    if chosen or case.legal_basis is LegalBasis.CONSENT:
        if not chosen or len(chosen) != len(set(consenters)):
            errors["consenter"] = N_("Choose who signed the consent form.")
        if not categories:
            errors["category"] = N_("Choose one or more kinds of information.")
        if not recipients:
            errors["recipient"] = N_("Choose who may receive the information.")
        if not form.form_seen:
            errors["form_seen"] = N_("Confirm that you have seen the signed form.")
    if (form.valid_until.strip() and until is None) or (
            until is not None and not current.on <= until <= current.on + MAX_VALIDITY):
        errors["valid_until"] = N_("The end date must lie after the start and within "
                                   "three years.")
    if errors:
        raise InvalidInput(errors)
    new = tuple(Consent(by=c, categories=frozenset(categories),
                        recipients=frozenset(recipients), valid_from=current.on,
                        valid_until=until, id=f"new:{i}") for i, c in enumerate(chosen))
    if case.legal_basis is LegalBasis.CONSENT:
        _require_complete(current, new, categories, recipients)
    ids = []
    for consenter in chosen:
        row = ConsentRecord(
            case_id=case.id, child_id=child.id,
            consenter_kind=ConsenterKind.CHILD if consenter == CHILD else ConsenterKind.ADULT,
            consenter_person_id=child.person_id if consenter == CHILD else consenter,
            method=ConsentMethod.SIGNED_FORM, categories=list(categories),
            recipients=list(recipients), valid_from=current.on, valid_until=until,
            given_at=now, recorded_by=actor.person_id)
        db.add(row)
        db.flush()
        ids.append(row.id)
    case.child_id = child.id
    case.anonymous = False
    search_index.index_case(db, vault, now, case.id, child_id=child.id)
    db.add(CaseConversion(case_id=case.id, child_id=child.id, converted_by=actor.person_id,
                          converted_at=now, consent_ids=ids))
    db.flush()
    record(db, who, now, event_type="case.converted", action="update", outcome="allowed",
           case_id=case.id, child_id=child.id, object_type="case", object_id=case.id)


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def _require_complete(current: ConsentFacts, new: tuple[Consent, ...],
                      categories: tuple[str, ...], recipients: tuple[str, ...]) -> None:
    consents = current.consents + new
    for category in categories:
        for recipient in recipients:
            try:
                decision = decide(engine_case(current, Basis.CONSENT, category, recipient,
                                              consents))
            except ConsentInputError:
                decision = None
            if decision is None or not decision.allowed:
                raise InvalidInput({"consent": N_(
                    "The required consent is not complete yet: every adult with custody (and "
                    "the child where the law asks it) must have signed.")})
