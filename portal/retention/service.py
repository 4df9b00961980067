"""Retention for people: the board's confirmation (administrator) and the FG's view and holds.

Nothing here reads case content: the FG sees case references, organisations,
dates and codes, within the scope ``portal.dpo.scope`` gives them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.cases.gate import is_uuid
from portal.cases.models import Case
from portal.dpo.scope import case_organisations, fg_organisations
from portal.errors import N_, AccessDenied, InvalidInput
from portal.people.models import Child, Organisation, OrganisationKind
from portal.policy import Action, Actor, Deny, decide
from portal.retention.facts import candidate_cases, case_expiry, case_on_hold
from portal.retention.models import (
    CountedFrom,
    DataKind,
    HoldReason,
    LegalHold,
    LiftReason,
    RetentionErasure,
    RetentionPolicy,
)
from portal.retention.rules import DEFAULTS, MAX_MONTHS, Period

PREVIEW = timedelta(days=30)


def _require(db: Session, who: Requester, actor: Actor, now: datetime, action: Action,
             event_type: str, code: str, object_type: str | None = None,
             object_id: str | None = None) -> None:
    decision = decide(actor, action)
    record(db, who, now, event_type=event_type, action=code, decision=decision,
           object_type=object_type, object_id=object_id)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)


# -- the board's confirmation (administrator) ---------------------------------------

@dataclass(frozen=True)
class PolicyRow:
    organisation_id: str
    name: str
    kind: OrganisationKind
    default: Period
    confirmed: RetentionPolicy | None


def policies(db: Session, who: Requester, actor: Actor, now: datetime) -> list[PolicyRow]:
    """Each organisation's case-file retention: the confirmed policy, or the default to confirm."""
    _require(db, who, actor, now, Action.ORGANISATION_MANAGE, "retention.policy.view", "read")
    confirmed = {p.organisation_id: p for p in db.scalars(
        select(RetentionPolicy).where(RetentionPolicy.data_kind == DataKind.CASE_FILE))}
    return [PolicyRow(o.id, o.name, o.kind, DEFAULTS[o.kind], confirmed.get(o.id))
            for o in db.scalars(select(Organisation).order_by(Organisation.name))]


def confirm_policy(db: Session, who: Requester, actor: Actor, now: datetime, *,
                   organisation_id: str, months: str, counted_from: str,
                   confirmed: bool) -> RetentionPolicy:
    """Confirm (or change and confirm again) an organisation's period; recorded as a write."""
    organisation = db.get(Organisation, organisation_id) if is_uuid(organisation_id) else None
    _require(db, who, actor, now, Action.ORGANISATION_MANAGE, "retention.policy.confirm",
             "update", object_type="organisation",
             object_id=organisation.id if organisation else None)
    errors = {}
    if organisation is None:
        errors["organisation_id"] = N_("Choose an organisation.")
    period = int(months) if months.strip().isdigit() else 0
    if not 1 <= period <= MAX_MONTHS:
        errors["months"] = N_("Give a number of months from 1 to 1200.")
    if counted_from not in {c.value for c in CountedFrom}:
        errors["counted_from"] = N_("Choose the event the period counts from.")
    if not confirmed:
        errors["confirm"] = N_("Confirm that the board decided this retention period.")
    if errors or organisation is None:
        raise InvalidInput(errors)
    row = db.scalar(select(RetentionPolicy).where(
        RetentionPolicy.organisation_id == organisation.id,
        RetentionPolicy.data_kind == DataKind.CASE_FILE))
    if row is None:
        row = RetentionPolicy(organisation_id=organisation.id, data_kind=DataKind.CASE_FILE)
        db.add(row)
    row.period_months = period
    row.counted_from = CountedFrom(counted_from)
    row.confirmed_at = now
    row.confirmed_by = actor.person_id
    db.flush()
    return row


# -- the FG: what expires, and legal holds ------------------------------------------

@dataclass(frozen=True)
class Expiring:
    case_id: str
    organisation: str
    expires_at: datetime
    period: Period
    held: bool


@dataclass(frozen=True)
class HoldRow:
    id: str
    case_id: str | None
    child_id: str | None
    reason: HoldReason
    placed_at: datetime


@dataclass(frozen=True)
class ErasureRow:
    case_id: str
    organisation: str
    period: Period
    erased_at: datetime


@dataclass(frozen=True)
class Overview:
    expiring: list[Expiring]
    holds: list[HoldRow]
    erased: list[ErasureRow]


RECENT_ERASURES = 50


def expiring(db: Session, organisations: frozenset[str], now: datetime) -> list[Expiring]:
    """Cases of these organisations whose retention runs out within 30 days (or ran out)."""
    names = {str(row[0]): str(row[1]) for row in db.execute(
        select(Organisation.id, Organisation.name))}
    rows = []
    for case in candidate_cases(db):
        if not organisations & case_organisations(db, case.id):
            continue
        found, _ = case_expiry(db, case)
        if found is not None and found.at <= now + PREVIEW:
            rows.append(Expiring(case.id, names.get(case.organisation_id, "?"), found.at,
                                 found.period, case_on_hold(db, case)))
    return sorted(rows, key=lambda row: (row.expires_at, row.case_id))


def expiring_count(db: Session, actor: Actor, now: datetime) -> int:
    """For the FG's start page: how many cases in their scope expire within 30 days."""
    return len(expiring(db, fg_organisations(db, actor), now))


def overview(db: Session, who: Requester, actor: Actor, now: datetime) -> Overview:
    _require(db, who, actor, now, Action.DPO_REVIEW, "retention.overview", "read")
    scope = fg_organisations(db, actor)
    holds = [HoldRow(h.id, h.case_id, h.child_id, h.reason, h.placed_at)
             for h in db.scalars(select(LegalHold).where(LegalHold.lifted_at.is_(None))
                                 .order_by(LegalHold.placed_at))
             if _in_scope(db, scope, h.case_id, h.child_id)]
    return Overview(expiring(db, scope, now), holds, _erased(db, scope))


def _erased(db: Session, scope: frozenset[str]) -> list[ErasureRow]:
    """The latest cases the job erased in this scope: when, under whose period."""
    rows = db.execute(select(RetentionErasure, Organisation.name)
                      .join(Organisation, Organisation.id == RetentionErasure.organisation_id)
                      .order_by(RetentionErasure.erased_at.desc()))
    found = []
    for erasure, name in rows:
        if scope & case_organisations(db, erasure.case_id):
            found.append(ErasureRow(erasure.case_id, str(name),
                                    Period(erasure.period_months, erasure.counted_from),
                                    erasure.erased_at))
            if len(found) == RECENT_ERASURES:
                break
    return found


def _in_scope(db: Session, scope: frozenset[str], case_id: str | None,
              child_id: str | None) -> bool:
    if case_id is not None:
        return bool(scope & case_organisations(db, case_id))
    child = db.get(Child, child_id) if child_id else None
    if child is None:
        return False
    cases = db.scalars(select(Case.id).where(Case.child_id == child.id))
    return child.school_id in scope or any(scope & case_organisations(db, c) for c in cases)


def place_hold(db: Session, who: Requester, actor: Actor, now: datetime, *, case_id: str,
               whole_child: bool, reason: str) -> LegalHold:
    """Hold a case (or every case of its child) from erasure; recorded, the reason on the hold."""
    case = db.get(Case, case_id) if is_uuid(case_id) else None
    decision = decide(actor, Action.DPO_REVIEW)
    visible = decision.allowed and case is not None and _in_scope(
        db, fg_organisations(db, actor), case.id, None)
    if decision.allowed and not visible:  # another organisation's case: as if it did not exist
        decision = Deny(reason="no_such_case", hide=True)
    record(db, who, now, event_type="retention.hold.place", action="create", decision=decision,
           case_id=case.id if case and visible else None,
           child_id=case.child_id if case and visible else None, object_type="case",
           object_id=case.id if case and visible else None)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    assert case is not None
    if reason not in {r.value for r in HoldReason}:
        raise InvalidInput({"reason": N_("Choose why the data must be kept.")})
    if whole_child and case.child_id is None:
        raise InvalidInput({"whole_child": N_("An anonymous case has no child to hold.")})
    hold = LegalHold(case_id=None if whole_child else case.id,
                     child_id=case.child_id if whole_child else None,
                     reason=HoldReason(reason), placed_at=now, placed_by=actor.person_id)
    db.add(hold)
    db.flush()
    return hold


def lift_hold(db: Session, who: Requester, actor: Actor, now: datetime, *, hold_id: str,
              reason: str) -> None:
    """End a hold; the case counts down again from its own events (nothing was reset)."""
    hold = db.get(LegalHold, hold_id) if is_uuid(hold_id) else None
    decision = decide(actor, Action.DPO_REVIEW)
    visible = decision.allowed and hold is not None and hold.lifted_at is None and _in_scope(
        db, fg_organisations(db, actor), hold.case_id, hold.child_id)
    if decision.allowed and not visible:
        decision = Deny(reason="no_such_hold", hide=True)
    record(db, who, now, event_type="retention.hold.lift", action="update", decision=decision,
           case_id=hold.case_id if hold and visible else None,
           child_id=hold.child_id if hold and visible else None, object_type="legal_hold",
           object_id=hold.id if hold and visible else None)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    assert hold is not None
    if reason not in {r.value for r in LiftReason}:
        raise InvalidInput({"lift_reason": N_("Choose why the hold ends.")})
    hold.lifted_at = now
    hold.lifted_by = actor.person_id
    hold.lift_reason = LiftReason(reason)
    db.flush()

