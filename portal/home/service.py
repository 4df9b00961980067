"""The start page: what needs this person today, from what the policy lets them see.

Each part is offered only when the policy allows its action, so nobody lands
on a refusal after logging in. Case titles come from ``list_cases`` (which
decides and records each case); meetings and minutes add only dates and
statuses of those same cases, decided per case, so no further content is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit.service import Requester
from portal.breaches import service as breach_service
from portal.cases import service as cases
from portal.cases.models import CaseRole, CaseStatus
from portal.cases.service import CaseSummary
from portal.meetings import service as meetings
from portal.meetings.models import Meeting, MeetingStatus
from portal.meetings.service import ActionItemView
from portal.minutes import service as minutes
from portal.minutes.models import Minutes, MinutesStatus, MinutesVersion
from portal.people.models import Organisation, Person
from portal.policy import Action, Actor, decide
from portal.register.service import keeps_a_register
from portal.requests.desk import Waiting
from portal.requests.desk import waiting as requests_waiting
from portal.retention.service import expiring_count
from portal.rights.objection import pending_objections
from portal.staff import chair
from portal.vault.service import Vault

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class UpcomingMeeting:
    meeting_id: str
    case_id: str
    case_title: str
    starts_at: datetime


@dataclass(frozen=True)
class MinutesWaiting:
    meeting_id: str
    case_title: str
    starts_at: datetime


@dataclass(frozen=True)
class StartPage:
    cases: list[CaseSummary] | None = None  # None: no case work for this person
    meetings: list[UpcomingMeeting] = field(default_factory=list)
    minutes_to_approve: list[MinutesWaiting] = field(default_factory=list)
    action_items: list[ActionItemView] = field(default_factory=list)
    vacancies: list[chair.Vacancy] = field(default_factory=list)
    organisations: int | None = None  # the administrator's counts
    accounts: int | None = None
    audit: bool = False
    break_glass_reviews: bool = False
    invitations: bool = False
    register: bool = False
    rights_desk: bool = False  # the FG's restrictions and objections (portal.rights)
    pending_objections: int = 0
    breaches: breach_service.Deadlines | None = None  # the FG's 72-hour clocks
    retention_expiring: int | None = None  # the FG: cases whose retention ends within 30 days
    requests: Waiting | None = None  # the FG's requests of data subjects

    @property
    def empty(self) -> bool:
        return not (self.meetings or self.minutes_to_approve or self.action_items
                    or self.vacancies)


def start_page(db: Session, vault: Vault, who: Requester, actor: Actor,
               now: datetime) -> StartPage:
    allowed = {action: decide(actor, action).allowed for action in (
        Action.CASE_LIST, Action.ORGANISATION_MANAGE, Action.AUDIT_SEARCH,
        Action.INVITATION_LIST, Action.REGISTER_VIEW, Action.DPO_REVIEW)}
    page = StartPage(audit=allowed[Action.AUDIT_SEARCH],
                     break_glass_reviews=allowed[Action.DPO_REVIEW],
                     invitations=allowed[Action.INVITATION_LIST],
                     register=allowed[Action.REGISTER_VIEW] and keeps_a_register(db, actor))
    if allowed[Action.DPO_REVIEW]:
        page = replace(page, rights_desk=True, pending_objections=pending_objections(db, actor))
        page = replace(page, breaches=breach_service.deadlines(db, actor, now),
                       retention_expiring=expiring_count(db, actor, now),
                       requests=requests_waiting(db, actor, now))
    if allowed[Action.ORGANISATION_MANAGE]:
        # Counts only: the administrator's own page lists the rows (and records it).
        page = replace(page, organisations=db.scalar(select(func.count(Organisation.id))),
                       accounts=db.scalar(select(func.count(Person.id))))
    if not allowed[Action.CASE_LIST]:
        return page
    # The first page of the case list (newest first): what today's work is about.
    listed = cases.list_cases(db, vault, who, actor, now).cases
    open_cases = [c for c in listed if c.status is CaseStatus.OPEN and c.erased_at is None]
    return replace(
        page, cases=open_cases,
        meetings=_meetings_this_week(db, vault, actor, now, open_cases),
        minutes_to_approve=_minutes_to_approve(db, vault, actor, now, open_cases),
        action_items=meetings.my_action_items(db, vault, who, actor, now),
        vacancies=chair.vacancies_to_fill(db, who, actor, now))


def _visible(db: Session, vault: Vault, actor: Actor, now: datetime, case_id: str,
             action: Action) -> bool:
    facts = cases.case_facts(db, case_id, vault, now)
    return facts is not None and not facts.restricted and decide(actor, action, facts).allowed


def _meetings_this_week(db: Session, vault: Vault, actor: Actor, now: datetime,
                        open_cases: list[CaseSummary]) -> list[UpcomingMeeting]:
    titles = {c.id: c.title for c in open_cases}
    if not titles:
        return []
    rows = db.scalars(select(Meeting).where(
        Meeting.case_id.in_(titles), Meeting.status == MeetingStatus.SCHEDULED,
        Meeting.starts_at >= now, Meeting.starts_at < now + WEEK)
        .order_by(Meeting.starts_at)).all()
    seen = {case_id: _visible(db, vault, actor, now, case_id, Action.MEETING_VIEW)
            for case_id in {m.case_id for m in rows}}
    return [UpcomingMeeting(m.id, m.case_id, titles[m.case_id], m.starts_at)
            for m in rows if seen[m.case_id]]


def _minutes_to_approve(db: Session, vault: Vault, actor: Actor, now: datetime,
                        open_cases: list[CaseSummary]) -> list[MinutesWaiting]:
    chaired = {c.id: c.title for c in open_cases if c.case_role is CaseRole.CHAIR}
    if not chaired:
        return []
    waiting = db.scalars(
        select(Meeting)
        .join(Minutes, Minutes.meeting_id == Meeting.id)
        .join(MinutesVersion, MinutesVersion.minutes_id == Minutes.id)
        .where(Meeting.case_id.in_(chaired),
               MinutesVersion.status == MinutesStatus.SUBMITTED)
        .order_by(Meeting.starts_at)).unique().all()
    shown = []
    for meeting in waiting:
        facts = cases.case_facts(db, meeting.case_id, vault, now)
        if facts is not None and not facts.restricted \
                and minutes.can(actor, Action.MINUTES_APPROVE, facts, meeting):
            shown.append(MinutesWaiting(meeting.id, chaired[meeting.case_id], meeting.starts_at))
    return shown
