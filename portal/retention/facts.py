"""What the retention rules are fed for a case: the organisations' periods, the events, holds."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.cases.models import Case, CaseStatus
from portal.documents.models import CaseDocument
from portal.dpo.scope import case_organisations
from portal.meetings.models import ActionItem, Meeting
from portal.minutes.models import Minutes, MinutesVersion
from portal.people.models import Enrolment
from portal.retention.holds import on_hold
from portal.retention.models import CountedFrom, DataKind, RetentionPolicy
from portal.retention.rules import Expiry, Period, expiry


def confirmed_policies(db: Session, organisation_ids: Iterable[str],
                       kind: DataKind = DataKind.CASE_FILE) -> dict[str, RetentionPolicy]:
    ids = list(organisation_ids)
    return {p.organisation_id: p for p in db.scalars(select(RetentionPolicy).where(
        RetentionPolicy.organisation_id.in_(ids), RetentionPolicy.data_kind == kind))}


def events(db: Session, case: Case) -> dict[CountedFrom, datetime | None]:
    """When each counting event happened for ``case`` (None: not yet, or unknown)."""
    closed = case.closed_at if case.status is CaseStatus.CLOSED else None
    left = None
    if case.child_id is not None:
        enrolments = db.execute(select(Enrolment.active, Enrolment.updated_at)
                                .where(Enrolment.child_id == case.child_id)).all()
        # Left school: on no register any more (every enrolment ended); since the last end.
        if enrolments and not any(active for active, _ in enrolments):
            left = max(updated for _, updated in enrolments)
    dates = [case.created_at, closed, *(db.scalar(q) for q in (
        select(func.max(CaseDocument.created_at)).where(CaseDocument.case_id == case.id),
        select(func.max(Meeting.created_at)).where(Meeting.case_id == case.id),
        select(func.max(Meeting.starts_at)).where(Meeting.case_id == case.id),
        select(func.max(ActionItem.created_at)).where(ActionItem.case_id == case.id),
        select(func.max(MinutesVersion.created_at))
        .join(Minutes, Minutes.id == MinutesVersion.minutes_id)
        .where(Minutes.case_id == case.id)))]
    return {CountedFrom.CASE_CLOSED: closed, CountedFrom.PUPIL_LEFT: left,
            CountedFrom.LAST_ENTRY: max(d for d in dates if d is not None)}


def case_expiry(db: Session, case: Case) -> tuple[Expiry | None, RetentionPolicy | None]:
    """The case's expiry, and the confirmed policy that decides it (None, None: never yet)."""
    organisations = case_organisations(db, case.id)
    policies = confirmed_policies(db, organisations)
    periods: dict[str, Period | None] = {
        org: (Period(p.period_months, p.counted_from) if (p := policies.get(org)) else None)
        for org in organisations}
    confirmed = max((p.confirmed_at for p in policies.values()), default=None)
    found = expiry(periods, events(db, case), confirmed)
    return (found, policies[found.organisation_id]) if found else (None, None)


def case_on_hold(db: Session, case: Case) -> bool:
    return on_hold(db, case.id, case.child_id)


def candidate_cases(db: Session) -> list[Case]:
    """Cases not yet erased whose holder confirmed a policy (the rest never expire)."""
    return list(db.scalars(select(Case).where(
        Case.erased_at.is_(None),
        Case.organisation_id.in_(select(RetentionPolicy.organisation_id)))
        .order_by(Case.id)))
