""""Who looked at my child's data": the access log as parents and 16+ pupils see it.

Shown per access: when, the organisation and role, what kind of data, the basis
used and a clear mark where the safety exception (break-glass) was used.
Professionals' names are shown only for organisations listed in
``PORTAL_AUDIT_NAMES_FOR_FAMILY``; by default a parent sees organisation and role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.charts import Access, Timeline, timeline
from portal.audit.export import visible
from portal.audit.models import AccessRecord
from portal.audit.service import Requester, read_basis, record
from portal.audit.views import (
    PAGE_LIMIT,
    Filters,
    conditions,
    is_uuid,
    local_day_start,
    parse_filters,
    query_text,
)
from portal.cases.models import Case
from portal.consent.facts import child_standing
from portal.errors import AccessDenied
from portal.localtime import LOCAL_TIME
from portal.people.models import Child, ChildRelation, Organisation
from portal.policy import Action, Actor, ChildFacts, Deny, decide
from portal.vault.service import Vault, child_field

TIMELINE_DAYS = 90


@dataclass(frozen=True)
class ChildLink:
    id: str
    name: str


@dataclass(frozen=True)
class FamilyRow:
    when: datetime
    organisation: str
    roles: tuple[str, ...]
    name: str | None  # None: the organisation does not show names
    event_type: str
    categories: tuple[str, ...]
    basis_kind: str  # consent / ground / break_glass / role / family / none
    legal_ground: str
    outcome: str
    break_glass: bool


@dataclass(frozen=True)
class ChildHistory:
    child: ChildLink
    rows: Sequence[FamilyRow]
    timelines: Sequence[Timeline]
    organisations: Sequence[tuple[str, str]]
    period_from: date
    period_to: date


def _child_facts(db: Session, vault: Vault, actor: Actor, child: Child,
                 now: datetime) -> ChildFacts:
    # The same standing the family pages use (custody from the engine's facts,
    # the age on today's date); a professional has none.
    return ChildFacts(child_id=child.id, standing=child_standing(db, vault, child,
                                                                 actor.person_id, now))


def my_children(db: Session, vault: Vault, who: Requester, actor: Actor,
                now: datetime) -> list[ChildLink]:
    """The children whose access log this citizen may see, each decided and recorded."""
    decision = decide(actor, Action.AUDIT_FAMILY_LIST)
    if isinstance(decision, Deny):
        record(db, who, now, event_type="audit.family", action="read", decision=decision,
               purpose_of_use="own_data")
        raise AccessDenied(decision)
    related = set(db.scalars(select(ChildRelation.child_id)
                             .where(ChildRelation.person_id == actor.person_id)))
    related.update(db.scalars(select(Child.id).where(Child.person_id == actor.person_id)))
    links = []
    for child_id in sorted(related):
        child = db.get_one(Child, child_id)
        allowed = decide(actor, Action.AUDIT_CHILD,
                         child=_child_facts(db, vault, actor, child, now))
        record(db, who, now, event_type="audit.family", action="read", decision=allowed,
               child_id=child.id, object_type="child", object_id=child.id,
               purpose_of_use="own_data")
        if allowed.allowed:
            links.append(ChildLink(child.id, vault.open(db, child.name_ct,
                                                        child_field(child.id, "name"))))
    return sorted(links, key=lambda link: link.name)


def child_history(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                  child_id: str, params: Mapping[str, str],
                  names_for: frozenset[str]) -> ChildHistory:
    """Who accessed this child's data, newest first, with a timeline per case."""
    child = db.get(Child, child_id) if is_uuid(child_id) else None
    if child is None:
        denied = Deny(reason="no_such_child", hide=True)
        record(db, who, now, event_type="audit.child", action="read", decision=denied,
               object_type="child", purpose_of_use="own_data")
        raise AccessDenied(denied)
    decision = decide(actor, Action.AUDIT_CHILD, child=_child_facts(db, vault, actor, child, now))
    record(db, who, now, event_type="audit.child", action="read", decision=decision,
           child_id=child.id, object_type="child", object_id=child.id,
           query=query_text(params), purpose_of_use="own_data")
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    filters = parse_filters(params)
    today = now.astimezone(LOCAL_TIME).date()
    period_to = filters.date_to or today
    period_from = filters.date_from or period_to - timedelta(days=TIMELINE_DAYS - 1)
    wanted = Filters(child=child.id, organisation=filters.organisation,
                     date_from=period_from, date_to=period_to)
    entries = db.scalars(
        select(AccessRecord)
        .where(*conditions(wanted), AccessRecord.event_type.not_like("audit.%"))
        .order_by(AccessRecord.seq.desc()).limit(PAGE_LIMIT)).all()
    organisations = dict(db.execute(select(Organisation.id, Organisation.name)).all())
    slugs = dict(db.execute(select(Organisation.id, Organisation.slug)).all())
    rows = [_family_row(e, organisations, slugs, names_for) for e in entries]
    name = vault.open(db, child.name_ct, child_field(child.id, "name"))
    return ChildHistory(
        child=ChildLink(child.id, name), rows=rows,
        timelines=_timelines(db, entries, rows, period_from, period_to),
        organisations=sorted(organisations.items(), key=lambda item: item[1]),
        period_from=period_from, period_to=period_to)


def _basis_kind(entry: AccessRecord) -> str:
    if entry.emergency_procedure:
        return "break_glass"
    facts = read_basis(entry.basis)
    if facts.consent:
        return "consent"
    if entry.legal_ground or facts.legal_ground:
        return "ground"
    for kind in ("participant", "family", "role"):
        if (entry.basis or "").startswith(kind):
            return "role" if kind == "participant" else kind
    return "none"


def _family_row(entry: AccessRecord, organisations: dict[str, str], slugs: dict[str, str],
                names_for: frozenset[str]) -> FamilyRow:
    organisation_id = entry.user_organisation_id or ""
    show_name = slugs.get(organisation_id) in names_for
    return FamilyRow(
        when=entry.occurred_at, organisation=organisations.get(organisation_id, ""),
        roles=tuple((entry.user_role or "").split(",")) if entry.user_role else (),
        name=visible(entry.user_name) if show_name else None,
        event_type=entry.event_type,
        categories=tuple(entry.data_categories.split(",")) if entry.data_categories else (),
        basis_kind=_basis_kind(entry),
        legal_ground=visible(entry.legal_ground or read_basis(entry.basis).legal_ground),
        outcome=entry.outcome, break_glass=entry.emergency_procedure)


def _timelines(db: Session, entries: Sequence[AccessRecord], rows: Sequence[FamilyRow],
               period_from: date, period_to: date) -> list[Timeline]:
    """One timeline per case: its accesses along the period, a row per organisation."""
    start = local_day_start(period_from).astimezone(LOCAL_TIME)
    end = local_day_start(period_to + timedelta(days=1)).astimezone(LOCAL_TIME)
    by_case: dict[str, list[Access]] = {}
    for entry, row in zip(entries, rows, strict=True):
        if entry.case_id is None:
            continue
        kind = "denied" if row.outcome != "allowed" else (
            "break_glass" if row.break_glass else "allowed")
        by_case.setdefault(entry.case_id, []).append(
            Access(entry.occurred_at.astimezone(LOCAL_TIME), row.organisation or "—", kind,
                   row.event_type))
    started = dict(db.execute(select(Case.id, Case.created_at)
                              .where(Case.id.in_(list(by_case)))).all())
    return [timeline(started[case_id].astimezone(LOCAL_TIME).strftime("%d-%m-%Y")
                     if case_id in started else "", accesses, start, end)
            for case_id, accesses in sorted(by_case.items(),
                                            key=lambda item: str(started.get(item[0], "")))]
