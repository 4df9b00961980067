"""A breach's scope, computed from the access log, and the partners it reaches.

The FG says what leaked in terms the log knows: "everything person X read
between T1 and T2", or "every document and minutes export in this period"
(optionally by one person). The allowed access records in that window name the
cases and children; ``portal.dpo.scope.case_organisations`` gives every
organisation taking part in those cases. Each partner organisation gets an
entry in its own register (the same discovery time, so the same 72 hours;
none of the reporter's text) and its FG a content-free mail: DOMAIN.md's "all
partners must be informed". The FG sees counts and organisation names only,
never a case's content.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.models import AccessRecord
from portal.audit.service import Requester, record
from portal.breaches.models import Breach, BreachCase, BreachScope, ScopeKind
from portal.breaches.service import (
    FgLogin,
    fg_gate,
    notify_fgs,
    parse_local,
    people_in_scope,
)
from portal.cases.models import Case
from portal.dpo.scope import case_organisations
from portal.errors import N_, InvalidInput
from portal.people.models import Child
from portal.policy import Actor

# Reading out of the portal: a document downloaded, minutes exported as PDF.
EXPORT_EVENTS = ("document.download", "minutes.export")
PARTNER_SUBJECT = "MDO-portaal: datalek bij een partnerorganisatie"
PARTNER_BODY = ("Een partnerorganisatie in een gezamenlijk MDO heeft een (mogelijk) datalek "
                "vastgesteld dat ook zaken raakt waaraan uw organisatie deelneemt.\n"
                "Het staat in het datalekregister van uw organisatie, met de termijn van "
                "72 uur voor het besluit over een melding aan de Autoriteit "
                "Persoonsgegevens.\n\nBekijk het register in het portaal: {link}\n")


@dataclass(frozen=True)
class Reach:
    records: int
    cases: dict[str, str | None]  # case id -> child id
    children: frozenset[str]
    organisations: frozenset[str]


def reach(db: Session, kind: ScopeKind, person_id: str | None, start: datetime,
          end: datetime) -> Reach:
    """What the allowed accesses in [start, end) reached: cases, children, organisations."""
    query = select(AccessRecord.case_id, AccessRecord.child_id).where(
        AccessRecord.outcome == "allowed", AccessRecord.occurred_at >= start,
        AccessRecord.occurred_at < end)
    if kind is ScopeKind.READS:
        query = query.where(AccessRecord.action_code == "R")
    else:
        query = query.where(AccessRecord.event_type.in_(EXPORT_EVENTS))
    if person_id is not None:
        query = query.where(AccessRecord.user_id == person_id)
    found = [(c, ch) for c, ch in db.execute(query) if c or ch]
    case_ids = {c for c, _ in found if c}
    cases: dict[str, str | None] = {str(i): ch for i, ch in db.execute(
        select(Case.id, Case.child_id).where(Case.id.in_(case_ids)))}
    children = {ch for _, ch in found if ch} | {ch for ch in cases.values() if ch}
    organisations: set[str] = set()
    for case_id in cases:
        organisations |= case_organisations(db, case_id)
    # A child read outside any case (a register page) reaches the child's school.
    lone = {ch for c, ch in found if ch and not c}
    organisations |= set(db.scalars(select(Child.school_id).where(Child.id.in_(lone))))
    return Reach(records=len(found), cases=cases, children=frozenset(children),
                 organisations=frozenset(organisations))


@dataclass(frozen=True)
class ScopeForm:
    kind: ScopeKind
    person_id: str | None
    start: datetime
    end: datetime


def parse_scope(form: Mapping[str, str], people: list[tuple[str, str]]) -> ScopeForm:
    errors: dict[str, str] = {}
    kind = form.get("kind", "")
    if kind not in {k.value for k in ScopeKind}:
        errors["kind"] = N_("Choose what the scope is.")
    person_id = form.get("person_id") or None
    if person_id is not None and person_id not in {i for i, _ in people}:
        errors["person_id"] = N_("Choose a person of your organisation.")
    if kind == ScopeKind.READS and person_id is None:
        errors.setdefault("person_id", N_("Choose whose reads the breach concerns."))
    start = parse_local(form.get("from_date", ""), form.get("from_time", "") or "00:00")
    end = parse_local(form.get("to_date", ""), form.get("to_time", "") or "23:59")
    if start is None or end is None or end <= start:
        errors["from_date"] = N_("Give a period whose end lies after its start.")
    if errors:
        raise InvalidInput(errors)
    assert start is not None and end is not None
    return ScopeForm(ScopeKind(kind), person_id, start, end)


def define_scope(db: Session, who: Requester, actor: Actor, now: datetime, breach_id: str,
                 login: FgLogin, form: Mapping[str, str], public_url: str) -> Reach:
    """Compute the reach, keep it with the breach, inform every partner organisation."""
    decision, breach = fg_gate(db, who, actor, now, login, event_type="breach.scope",
                               action="create", breach_id=breach_id)
    assert breach is not None
    if breach.origin_id is not None:
        # A partner's entry: the organisation that found the breach sets its scope.
        raise InvalidInput({"kind": N_("The organisation that found the breach sets its scope.")})
    wanted = parse_scope(form, people_in_scope(db, actor))
    found = reach(db, wanted.kind, wanted.person_id, wanted.start, wanted.end)
    # Searching the log is itself on record: the filter, never its results.
    record(db, who, now, event_type="breach.scope", action="create", decision=decision,
           object_type="breach", object_id=breach.id,
           query=f"kind={wanted.kind.value};person={wanted.person_id or ''};"
                 f"from={wanted.start.isoformat()};to={wanted.end.isoformat()}")
    db.add(BreachScope(breach_id=breach.id, kind=wanted.kind.value, person_id=wanted.person_id,
                       period_start=wanted.start, period_end=wanted.end, defined_at=now,
                       defined_by=actor.person_id, records=found.records,
                       children=len(found.children), cases=len(found.cases),
                       organisations=len(found.organisations)))
    _add_cases(db, breach.id, found.cases)
    inform_partners(db, now, breach, found, public_url)
    return found


def _add_cases(db: Session, breach_id: str, cases: Mapping[str, str | None]) -> set[str]:
    known = set(db.scalars(select(BreachCase.case_id).where(BreachCase.breach_id == breach_id)))
    added = {c for c in cases if c not in known}
    for case_id in sorted(added):
        db.add(BreachCase(breach_id=breach_id, case_id=case_id, child_id=cases[case_id]))
    db.flush()
    return added


def inform_partners(db: Session, now: datetime, breach: Breach, found: Reach,
                    public_url: str) -> list[str]:
    """An entry in each partner's register; a mail to its FG when its part is new or grew."""
    told: set[str] = set()
    for organisation in sorted(found.organisations - {breach.organisation_id}):
        theirs = {c: ch for c, ch in found.cases.items()
                  if organisation in case_organisations(db, c)}
        entry = db.scalars(select(Breach).where(Breach.origin_id == breach.id,
                                                Breach.organisation_id == organisation)).first()
        new = entry is None
        if entry is None:
            entry = Breach(organisation_id=organisation, origin_id=breach.id,
                           reported_at=now, discovered_at=breach.discovered_at)
            db.add(entry)
            db.flush()
        if _add_cases(db, entry.id, theirs) or new:
            told.add(organisation)
    return notify_fgs(db, now, frozenset(told), PARTNER_SUBJECT,
                      PARTNER_BODY.format(link=f"{public_url}/dpo/breaches"),
                      kind="breach.partner")
