"""Reading cases: the actor's case list and the case's own page.

Every read goes policy → access record → decryption (``portal.cases.gate``).
Functions take the database session first and only ``flush()``; the request
boundary commits. A refusal raises ``AccessDenied`` after its access record
was written, so the denied attempt is kept.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto import record_dek_id
from portal.audit.service import Requester, entry, record_all
from portal.cases.capacity import CONTENT_FREE_ROLES, capacity_options
from portal.cases.gate import Planner, _require, authorize
from portal.cases.loaded import LoadedCase, load_case, wanted_keys
from portal.cases.models import Case, CaseParticipant, CaseRole, CaseStatus, LegalBasis
from portal.cases.participants import ParticipantView, participants_of
from portal.consent.facts import SettingCause, setting_causes
from portal.consent.invokers import may_open_grounds
from portal.consent.summary import ConsentSummary, summarize
from portal.documents import case_documents
from portal.meetings import case_agenda
from portal.people.models import Child, Organisation, Person
from portal.policy import Action, Actor, CaseFacts, ChildFacts, decide
from portal.staff.vacancy import ChairVacancyView, chair_vacancy
from portal.vault.service import Vault, case_field, child_field


@dataclass(frozen=True)
class CaseView:
    id: str
    title: str
    purpose: str
    child_name: str | None
    child_birthdate: date | None
    anonymous: bool
    legal_basis: LegalBasis
    status: CaseStatus
    created_at: datetime
    participants: Sequence[ParticipantView]
    can_manage: bool
    can_close: bool
    # The consent picture (named cases) and what the consent work offers here.
    consent: ConsentSummary | None = None
    can_view_consent: bool = False
    can_break_glass: bool = False
    can_open_grounds: bool = False
    can_convert: bool = False
    can_erase: bool = False
    # Set once the whole case was erased: then title and purpose are empty.
    erasure: CaseErasure | None = None
    chair_vacancy: ChairVacancyView | None = None
    # The capacities the viewer may choose to act in here: ("org id|role", org name, role),
    # offered when there is a choice.
    capacities: tuple[tuple[str, str, str], ...] = ()
    my_capacity: str = ""
    # Why the case is youth care (the longest-standing participant that makes it so).
    setting_cause: SettingCause | None = None
    child_id: str | None = None
    can_invite: bool = False
    # The facts this view was decided on: the page's other sections reuse them
    # instead of loading the case again (one load per request).
    facts: CaseFacts | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class CaseErasure:
    """What the erased case page shows: what went, when, by whom (role and organisation)."""

    erased_at: datetime
    erased_by: str
    roles: tuple[str, ...]
    organisation: str | None
    summary: dict[str, int]


@dataclass(frozen=True)
class CaseSummary:
    id: str
    title: str
    status: CaseStatus
    case_role: CaseRole
    created_at: datetime
    anonymous: bool
    erased_at: datetime | None = None


CASES_PER_PAGE = 50


@dataclass(frozen=True)
class CasePage:
    """One page of the actor's cases, newest first."""

    cases: Sequence[CaseSummary]
    number: int  # 1-based
    pages: int  # at least 1
    total: int

    @property
    def links(self) -> list[int]:
        """The page numbers linked to: the first, the last, and those near this one."""
        near = range(max(1, self.number - 3), min(self.pages, self.number + 3) + 1)
        return sorted({1, self.pages, *near})


def page_number(raw: str) -> int:
    """The page asked for in a link (``?page=``); anything but a positive number is the first."""
    return int(raw) if raw.isdigit() and 0 < int(raw) < 10**6 else 1


def list_cases(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
               number: int = 1) -> CasePage:
    """A page of the actor's cases; each listed case is decided and recorded on its own
    (the family's "who looked" relies on it), all of the page's records made in one
    go before any title is decrypted (and inserted in one at the commit). A page past
    the end shows the last one."""
    _require(db, who, actor, now, Action.CASE_LIST, "case.list", "read")
    mine = CaseParticipant.person_id == actor.person_id
    total = db.scalar(select(func.count()).select_from(CaseParticipant).where(mine)) or 0
    pages = max(1, -(-total // CASES_PER_PAGE))
    number = min(max(number, 1), pages)
    rows = db.execute(
        select(Case, CaseParticipant.case_role)
        .join(CaseParticipant, CaseParticipant.case_id == Case.id)
        .where(mine)
        .order_by(Case.created_at.desc(), Case.id)
        .limit(CASES_PER_PAGE).offset((number - 1) * CASES_PER_PAGE)
    ).all()
    decided = [(case, case_role, decide(actor, Action.CASE_VIEW, CaseFacts(
        case_id=case.id, status=case.status, legal_basis=case.legal_basis,
        anonymous=case.anonymous, child_id=case.child_id,
        participants={actor.person_id: case_role}, erased=case.erased_at is not None)))
        for case, case_role in rows]
    record_all(db, [entry(who, now, event_type="case.list", action="read", decision=decision,
                          case_id=case.id, child_id=case.child_id, object_type="case",
                          object_id=case.id) for case, _, decision in decided])
    shown = [(case, case_role) for case, case_role, decision in decided if decision.allowed]
    # An erased case has no title left to decrypt: the list says "erased".
    vault.preload(db, (record_dek_id(case.title_ct) for case, _ in shown if not case.erased_at))
    summaries = [CaseSummary(
        id=case.id, status=case.status, case_role=case_role, created_at=case.created_at,
        anonymous=case.anonymous, erased_at=case.erased_at,
        title="" if case.erased_at else vault.open(db, case.title_ct,
                                                   case_field(case.id, "title")))
        for case, case_role in shown]
    return CasePage(cases=summaries, number=number, pages=pages, total=total)


def view_case(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
              case_id: str, *, sections: Collection[str] = ()) -> CaseView:
    """The case's own view. ``sections``: the page also shows its ``"agenda"`` and/or
    ``"documents"``; they are decided with this read and recorded with it, in one insert."""
    facts = authorize(db, who, actor, now, Action.CASE_VIEW, case_id,
                      event_type="case.view", action_code="read", vault=vault,
                      also=_page_sections(db, vault, who, actor, now, sections))
    # The sections' keys, now that their reads are on record: one look-up for all.
    vault.preload(db, wanted_keys(db))
    # The rows the decision was made on, loaded once for this request (portal.cases.loaded).
    loaded = load_case(db, facts.case_id)
    assert loaded is not None  # just decided on: the case exists
    case, child = loaded.case, loaded.child
    if case.erased_at is not None:
        return replace(_erased_view(db, case), facts=facts)
    can_view_consent = decide(actor, Action.CONSENT_VIEW, facts).allowed
    consent = summarize(db, vault, actor, facts, organisation_id=case.organisation_id,
                        professional=True, now=now) if can_view_consent else None
    key = vault.key_for(db, case.title_ct)
    child_name = child_birthdate = None
    if case.child_id:
        child = child or db.get_one(Child, case.child_id)
        child_key = vault.key_for(db, child.name_ct)
        child_name = vault.open(db, child.name_ct, child_field(child.id, "name"), child_key)
        child_birthdate = date.fromisoformat(
            vault.open(db, child.birthdate_ct, child_field(child.id, "birthdate"), child_key))
    return CaseView(
        id=case.id,
        title=vault.open(db, case.title_ct, case_field(case.id, "title"), key),
        purpose=vault.open(db, case.purpose_ct, case_field(case.id, "purpose"), key),
        child_name=child_name, child_birthdate=child_birthdate, anonymous=case.anonymous,
        legal_basis=case.legal_basis, status=case.status, created_at=case.created_at,
        participants=_participant_views(loaded),
        can_manage=decide(actor, Action.CASE_MANAGE_PARTICIPANTS, facts).allowed,
        can_close=decide(actor, Action.CASE_CLOSE, facts).allowed,
        consent=consent, can_view_consent=can_view_consent,
        can_break_glass=decide(actor, Action.BREAK_GLASS, facts).allowed,
        can_open_grounds=may_open_grounds(db, actor, facts),
        can_convert=case.anonymous and decide(actor, Action.CASE_CONVERT, facts).allowed,
        can_erase=decide(actor, Action.CASE_ERASE, facts).allowed,
        chair_vacancy=chair_vacancy(db, case) if loaded.chair_vacant else None,
        # A choice needs two capacities: with fewer (known from the actor) nothing to look up.
        capacities=capacity_options(db, actor.person_id)
        if decide(actor, Action.CASE_CHOOSE_CAPACITY, facts).allowed
        and sum(role not in CONTENT_FREE_ROLES for _, role in actor.memberships) > 1 else (),
        my_capacity=next((f"{p.organisation_id}|{p.capacity_role}" for p in loaded.participants
                          if p.person_id == actor.person_id and p.capacity_role), ""),
        setting_cause=_setting_cause(db, case),
        child_id=case.child_id,
        can_invite=case.child_id is not None and decide(
            actor, Action.INVITATION_MANAGE, child=ChildFacts(
                child_id=case.child_id, school_id=child.school_id if child else "")
        ).allowed,
        facts=facts,
    )


def _page_sections(db: Session, vault: Vault, who: Requester, actor: Actor,
                   now: datetime, sections: Collection[str]) -> tuple[Planner, ...]:
    planners: dict[str, Planner] = {
        "agenda": lambda facts: case_agenda.plan_case_page(db, vault, who, actor, now, facts),
        "documents": lambda facts: case_documents.plan_case_page(db, who, actor, now, facts)}
    unknown = set(sections) - planners.keys()
    if unknown:
        raise ValueError(f"unknown case page sections: {sorted(unknown)}")
    return tuple(planners[name] for name in planners if name in sections)


def _setting_cause(db: Session, case: Case) -> SettingCause | None:
    cause = next(iter(setting_causes(db, case.id)), None)
    if cause is None or case.youth_care_since is None:
        return cause
    return replace(cause, since=case.youth_care_since)


def _erased_view(db: Session, case: Case) -> CaseView:
    """An erased case: only its erasure, nothing decrypted (its keys are gone)."""
    assert case.erased_at is not None
    name = db.scalar(select(Person.display_name).where(Person.id == case.erased_by))
    organisation = db.scalar(select(Organisation.name)
                             .where(Organisation.id == case.erased_by_organisation_id))
    summary = dict(part.split("=", 1) for part in (case.erased_summary or "").split(";")
                   if "=" in part)
    return CaseView(
        id=case.id, title="", purpose="", child_name=None, child_birthdate=None,
        anonymous=case.anonymous, legal_basis=case.legal_basis, status=case.status,
        created_at=case.created_at, participants=participants_of(db, case.id),
        can_manage=False, can_close=False,
        erasure=CaseErasure(erased_at=case.erased_at, erased_by=name or "?",
                            roles=tuple(r for r in (case.erased_by_role or "").split(",") if r),
                            organisation=organisation,
                            summary={k: int(v) for k, v in summary.items() if v.isdigit()}))


def _participant_views(loaded: LoadedCase) -> list[ParticipantView]:
    return [ParticipantView(id=p.id, person_id=p.person_id, name=p.name,
                            organisation=p.organisation, case_role=p.case_role,
                            capacity_role=p.capacity_role) for p in loaded.participants]
