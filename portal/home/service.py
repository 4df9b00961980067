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

from portal.audit import witness
from portal.audit.service import Requester
from portal.breaches import service as breach_service
from portal.cases import service as cases
from portal.cases.gate import case_facts
from portal.cases.models import CaseRole, CaseStatus
from portal.cases.service import CaseSummary
from portal.consent import breakglass
from portal.consent.facts import preload_consent_facts
from portal.consent.summary import missing_consenters
from portal.meetings.action_items import ActionItemView, my_action_items
from portal.meetings.models import Meeting, MeetingStatus
from portal.minutes import service as minutes
from portal.minutes.models import (
    CorrectionStatus,
    Minutes,
    MinutesCorrection,
    MinutesStatus,
    MinutesVersion,
)
from portal.notifications.models import Notification
from portal.notifications.service import Kind
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
# The birthday job tells the chair a month ahead (portal.notifications.birthdays).
BIRTHDAY_NOTICE = timedelta(days=30)


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
class CaseToDo:
    """A case with something to do and how much (people to consent; 0 when not a count)."""

    case_id: str
    case_title: str
    count: int = 0


@dataclass(frozen=True)
class StartPage:
    cases: list[CaseSummary] | None = None  # None: no case work for this person
    meetings: list[UpcomingMeeting] = field(default_factory=list)
    minutes_to_approve: list[MinutesWaiting] = field(default_factory=list)
    minutes_to_write: list[MinutesWaiting] = field(default_factory=list)
    corrections: list[MinutesWaiting] = field(default_factory=list)  # proposed, to decide
    consents_missing: list[CaseToDo] = field(default_factory=list)
    birthdays: list[CaseToDo] = field(default_factory=list)  # consent changes within 30 days
    action_items: list[ActionItemView] = field(default_factory=list)
    vacancies: list[chair.Vacancy] = field(default_factory=list)
    organisations: int | None = None  # the administrator's counts
    accounts: int | None = None
    audit: bool = False
    break_glass_reviews: bool = False
    break_glass_open: int = 0  # the FG's grants not reviewed yet
    witness_backlog: int | None = None  # checkpoints the witness has not cosigned; None: none
    invitations: bool = False
    register: bool = False
    rights_desk: bool = False  # the FG's restrictions and objections (portal.rights)
    pending_objections: int = 0
    breaches: breach_service.Deadlines | None = None  # the FG's 72-hour clocks
    retention_expiring: int | None = None  # the FG: cases whose retention ends within 30 days
    requests: Waiting | None = None  # the FG's requests of data subjects

    @property
    def empty(self) -> bool:
        return not (self.meetings or self.minutes_to_approve or self.minutes_to_write
                    or self.corrections or self.consents_missing or self.birthdays
                    or self.action_items or self.vacancies)


def start_page(db: Session, vault: Vault, who: Requester, actor: Actor,
               now: datetime, *, witness_url: str = "", witness_vkey: str = "") -> StartPage:
    allowed = {action: decide(actor, action).allowed for action in (
        Action.CASE_LIST, Action.ORGANISATION_MANAGE, Action.AUDIT_SEARCH,
        Action.INVITATION_LIST, Action.REGISTER_VIEW, Action.DPO_REVIEW)}
    page = StartPage(audit=allowed[Action.AUDIT_SEARCH],
                     break_glass_reviews=allowed[Action.DPO_REVIEW],
                     invitations=allowed[Action.INVITATION_LIST],
                     register=allowed[Action.REGISTER_VIEW] and keeps_a_register(db, actor))
    if allowed[Action.DPO_REVIEW]:
        page = replace(page, rights_desk=True, pending_objections=pending_objections(db, actor),
                       break_glass_open=breakglass.open_count(db, actor))
        witnessed = witness.status(db, witness_url, witness_vkey)
        if witnessed is not None:
            page = replace(page, witness_backlog=witnessed.backlog)
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
    # The sections below decide on each case: read all of their facts in a few
    # queries first, not a few per case.
    preload_consent_facts(db, [c.id for c in open_cases])
    return replace(
        page, cases=open_cases,
        meetings=_meetings_this_week(db, vault, actor, now, open_cases),
        minutes_to_approve=_minutes_to_approve(db, vault, actor, now, open_cases),
        minutes_to_write=_minutes_to_write(db, vault, actor, now, open_cases),
        corrections=_corrections_to_decide(db, vault, actor, now, open_cases),
        consents_missing=_consents_missing(db, vault, actor, now, open_cases),
        birthdays=_birthdays(db, vault, who, actor, now, open_cases),
        action_items=my_action_items(db, vault, who, actor, now),
        vacancies=chair.vacancies_to_fill(db, who, actor, now))


def _visible(db: Session, vault: Vault, actor: Actor, now: datetime, case_id: str,
             action: Action) -> bool:
    facts = case_facts(db, case_id, vault, now)
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
    return [MinutesWaiting(m.id, chaired[m.case_id], m.starts_at) for m in waiting
            if _may(db, vault, actor, now, m, Action.MINUTES_APPROVE)]


def _minutes_to_write(db: Session, vault: Vault, actor: Actor, now: datetime,
                      open_cases: list[CaseSummary]) -> list[MinutesWaiting]:
    """Held meetings this person takes the minutes of, with no version handed in yet."""
    titles = {c.id: c.title for c in open_cases}
    if not titles:
        return []
    handed_in = select(Minutes.meeting_id).join(
        MinutesVersion, MinutesVersion.minutes_id == Minutes.id).where(
        MinutesVersion.status.in_((MinutesStatus.SUBMITTED, MinutesStatus.APPROVED)))
    held = db.scalars(select(Meeting).where(
        Meeting.case_id.in_(titles), Meeting.minute_taker_id == actor.person_id,
        Meeting.status == MeetingStatus.SCHEDULED, Meeting.starts_at < now,
        Meeting.id.not_in(handed_in)).order_by(Meeting.starts_at)).all()
    return [MinutesWaiting(m.id, titles[m.case_id], m.starts_at) for m in held
            if _may(db, vault, actor, now, m, Action.MINUTES_WRITE)]


def _corrections_to_decide(db: Session, vault: Vault, actor: Actor, now: datetime,
                           open_cases: list[CaseSummary]) -> list[MinutesWaiting]:
    """Meetings whose approved minutes have a proposed correction for this chair."""
    chaired = {c.id: c.title for c in open_cases if c.case_role is CaseRole.CHAIR}
    if not chaired:
        return []
    proposed = db.scalars(
        select(Meeting).join(Minutes, Minutes.meeting_id == Meeting.id)
        .join(MinutesCorrection, MinutesCorrection.minutes_id == Minutes.id)
        .where(Meeting.case_id.in_(chaired),
               MinutesCorrection.status == CorrectionStatus.PROPOSED)
        .order_by(Meeting.starts_at)).unique().all()
    return [MinutesWaiting(m.id, chaired[m.case_id], m.starts_at) for m in proposed
            if _may(db, vault, actor, now, m, Action.MINUTES_APPROVE)]


def _may(db: Session, vault: Vault, actor: Actor, now: datetime, meeting: Meeting,
         action: Action) -> bool:
    facts = case_facts(db, meeting.case_id, vault, now)
    return facts is not None and not facts.restricted \
        and minutes.can(actor, action, facts, meeting)


def _consents_missing(db: Session, vault: Vault, actor: Actor, now: datetime,
                      open_cases: list[CaseSummary]) -> list[CaseToDo]:
    """The chair's cases where someone still has to consent (the case banner's count)."""
    missing = []
    for case in open_cases:
        if case.case_role is not CaseRole.CHAIR or case.anonymous:
            continue
        facts = case_facts(db, case.id, vault, now)
        if facts is None or facts.restricted \
                or not decide(actor, Action.CONSENT_VIEW, facts).allowed:
            continue
        if count := missing_consenters(db, facts):
            missing.append(CaseToDo(case.id, case.title, count))
    return missing


def _birthdays(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
               open_cases: list[CaseSummary]) -> list[CaseToDo]:
    """Birthdays that change who must consent, from this person's own birthday notices
    (the job decided and recorded what it read; these carry only the case's id), for
    the cases they still chair and may see the consent of (not under a restriction)."""
    chaired = {c.id: c.title for c in open_cases
               if c.case_role is CaseRole.CHAIR and not c.anonymous}
    if not chaired or who.user_id is None:
        return []
    told = db.scalars(select(Notification.case_id).where(
        Notification.recipient_id == who.user_id, Notification.kind == Kind.BIRTHDAY.value,
        Notification.created_at > now - BIRTHDAY_NOTICE, Notification.case_id.in_(chaired))
        .order_by(Notification.created_at)).all()
    return [CaseToDo(case_id, chaired[case_id]) for case_id in dict.fromkeys(told)
            if case_id and _visible(db, vault, actor, now, case_id, Action.CONSENT_VIEW)]
