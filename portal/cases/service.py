"""Cases: every read and write goes policy → access record → (de)cryption.

Functions take the database session first and only ``flush()``; the request
boundary commits. A refusal raises ``AccessDenied`` after its access record
was written, so the denied attempt is kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto import record_dek_id
from portal.audit.models import AccessRecord
from portal.audit.service import Requester, entry, record, record_all
from portal.cases.capacity import (
    CONTENT_FREE_ROLES,
    capacities_of,
    capacity_options,
    creating_capacities,
)
from portal.cases.loaded import LoadedCase, load_case, remembered, wanted_keys
from portal.cases.models import Case, CaseParticipant, CaseRole, CaseStatus, LegalBasis
from portal.cases.preview import (
    ConfirmationNeeded,
    Newcomer,
    preview_change,
    record_setting_change,
)
from portal.consent.anonymous import Writer, guard_text, record_overrides
from portal.consent.facts import (
    SettingCause,
    case_setting,
    load_consent_facts,
    load_safeguards,
    setting_causes,
)
from portal.consent.invokers import may_open_grounds
from portal.consent.summary import ConsentSummary, summarize
from portal.errors import N_, AccessDenied, InvalidInput
from portal.notifications import events as notifications
from portal.people.models import Child, Membership, Organisation, Person, PersonKind
from portal.policy import (
    ROLE_PERMISSIONS,
    Action,
    Actor,
    BreakGlassFacts,
    CaseFacts,
    ChildFacts,
    Decision,
    Deny,
    decide,
)
from portal.search import index as search_index
from portal.staff.vacancy import ChairVacancyView, chair_vacancy
from portal.vault.service import Vault, case_field, child_field
from portal.web.text import check_text

TITLE_MAX = 200
PURPOSE_MAX = 4000
ADDABLE_ROLES = (CaseRole.PARTICIPANT, CaseRole.MINUTE_TAKER, CaseRole.OBSERVER)
CONTENT_FREE_REFUSAL = N_("A data protection officer or an administrator cannot take part in"
                          " a case: these roles see no case content.")


@dataclass(frozen=True)
class NewCase:
    child_id: str | None
    anonymous: bool
    title: str
    purpose: str
    legal_basis: LegalBasis
    # The writer confirmed that what the identifier check finds is no identifier.
    confirm_identifiers: bool = False
    # (organisation id, role) the creator chairs the case in, when they chose one.
    capacity: tuple[str, str] | None = None


@dataclass(frozen=True)
class ParticipantView:
    id: str
    person_id: str
    name: str
    organisation: str
    case_role: CaseRole
    capacity_role: str | None = None  # the role they act in (a Role value)


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


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def case_facts(db: Session, case_id: str, vault: Vault | None = None,
               now: datetime | None = None) -> CaseFacts | None:
    """The case's facts for the policy.

    With ``now`` the restrictions and break-glass grants are loaded; with
    ``vault`` and ``now`` also the consent facts (the child's age on that day,
    custody, consents), which reading an item (``Action.ITEM_READ``) and every
    family decision need: without them those are refused.
    """
    loaded = load_case(db, case_id) if is_uuid(case_id) else None
    if loaded is None:
        return None
    return remembered(db, ("facts", case_id, now, vault is not None),
                      lambda: _case_facts(db, loaded, vault, now))


def _case_facts(db: Session, loaded: LoadedCase, vault: Vault | None,
                now: datetime | None) -> CaseFacts:
    case, rows = loaded.case, loaded.participants
    facts = CaseFacts(case_id=case.id, status=case.status, legal_basis=case.legal_basis,
                      anonymous=case.anonymous, child_id=case.child_id,
                      participants={r.person_id: r.case_role for r in rows},
                      participant_organisations={r.person_id: r.organisation_id for r in rows},
                      participant_roles={r.person_id: r.capacity_role for r in rows},
                      organisation_id=case.organisation_id,
                      erased=case.erased_at is not None)
    if now is None:
        return facts
    # The child's key (for the birth date the consent facts need) and the case's (for
    # the page's title, once allowed) were read with the case (portal.cases.loaded).
    guards = load_safeguards(db, case.id, now)
    return replace(
        facts, now=now, restricted=guards.restricted, restricted_items=guards.restricted_items,
        verifying_items=guards.verifying_items,
        break_glass=tuple(BreakGlassFacts(grant_id, person_id, expires_at)
                          for grant_id, person_id, expires_at in guards.grants),
        consent=load_consent_facts(db, vault, case, now) if vault is not None else None)


# Decides a page's further reads once the case's own is allowed, and returns their
# records (not written): see ``authorize(also=...)``.
Planner = Callable[[CaseFacts], Sequence[AccessRecord]]


def authorize(db: Session, who: Requester, actor: Actor, now: datetime, action: Action,
              case_id: str, *, event_type: str, action_code: str,
              vault: Vault | None = None, also: Sequence[Planner] = ()) -> CaseFacts:
    """The one gate for a single case: decide, record, and refuse or return the facts.

    Pass ``vault`` when the decision (or the caller's next ones) needs the
    consent facts: family actions, reading items. ``also``: the page's other
    reads, decided on the same facts when this one is allowed; all the records
    are written together (one insert) before the caller decrypts anything.
    """
    facts = case_facts(db, case_id, vault, now if vault is not None else None)
    if facts is None:
        record(db, who, now, event_type=event_type, action=action_code,
               decision=Deny(reason="no_such_case", hide=True), object_type="case",
               object_id=case_id if is_uuid(case_id) else None)
        raise AccessDenied(Deny(reason="no_such_case", hide=True))
    decision = decide(actor, action, facts)
    entries = [entry(who, now, event_type=event_type, action=action_code, decision=decision,
                     case_id=facts.case_id, child_id=facts.child_id, object_type="case",
                     object_id=facts.case_id)]
    if decision.allowed:
        for plan in also:
            entries.extend(plan(facts))
    record_all(db, entries)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    return facts


def _require(db: Session, who: Requester, actor: Actor, now: datetime, action: Action,
             event_type: str, action_code: str) -> Decision:
    decision = decide(actor, action)
    if isinstance(decision, Deny):
        record(db, who, now, event_type=event_type, action=action_code, decision=decision)
        raise AccessDenied(decision)
    return decision


# -- reading ------------------------------------------------------------------

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
    (the family's "who looked" relies on it), all of the page's records in one go
    before any title is decrypted. A page past the end shows the last one."""
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
    # Imported here: both sections build on this module (authorize, case_facts).
    from portal.documents import case_documents
    from portal.meetings import case_agenda
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


def participants_of(db: Session, case_id: str) -> list[ParticipantView]:
    rows = db.execute(
        select(CaseParticipant, Person.display_name, Organisation.name)
        .join(Person, Person.id == CaseParticipant.person_id)
        .join(Organisation, Organisation.id == CaseParticipant.organisation_id)
        .where(CaseParticipant.case_id == case_id)
        .order_by(CaseParticipant.added_at, Person.display_name)
    ).all()
    return [ParticipantView(id=p.id, person_id=p.person_id, name=name, organisation=org,
                            case_role=p.case_role, capacity_role=p.capacity_role)
            for p, name, org in rows]


def selectable_children(db: Session, vault: Vault, who: Requester, actor: Actor,
                        now: datetime) -> list[tuple[str, str]]:
    """Children at the schools where the actor may start a case, each read recorded.

    Only someone who may create a case gets the form (and so this list)."""
    _require(db, who, actor, now, Action.CASE_CREATE, "case.create.form", "read")
    schools = actor.organisations_with(Action.CHILD_LIST)
    if not schools:
        return []
    children = db.scalars(select(Child).where(Child.school_id.in_(schools))).all()
    result = []
    for child in children:
        record(db, who, now, event_type="child.list", action="read",
               decision=decide(actor, Action.CHILD_LIST), child_id=child.id,
               object_type="child", object_id=child.id)
        result.append((child.id, vault.open(db, child.name_ct, child_field(child.id, "name"))))
    return sorted(result, key=lambda item: item[1])


def selectable_people(db: Session,
                      exclude: Iterable[str]) -> list[tuple[str, str, str | None]]:
    """Professionals who can be added to a case, one option per capacity they can act in:
    (value, "name — organisation", role). A person with one membership is offered by
    their id alone; one with several once per "id|organisation|role"."""
    rows = db.execute(
        select(Person.id, Person.display_name, Organisation.id, Organisation.name,
               Membership.role)
        .join(Membership, Membership.person_id == Person.id)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Person.kind == PersonKind.PROFESSIONAL, Person.active.is_(True),
               Membership.role.not_in(CONTENT_FREE_ROLES))
        .order_by(Person.display_name, Organisation.name, Membership.role)
    ).all()
    excluded = set(exclude)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[0]] = counts.get(row[0], 0) + 1
    options: list[tuple[str, str, str | None]] = []
    for person_id, name, org_id, org, role in rows:
        if person_id in excluded:
            continue
        if counts[person_id] == 1:
            options.append((person_id, f"{name} — {org}", None))
        else:
            options.append((f"{person_id}|{org_id}|{role.value}", f"{name} — {org}",
                            role.value))
    return options


# -- writing ------------------------------------------------------------------

def validate_new_case(actor: Actor, db: Session, *, child_id: str, anonymous: bool,
                      title: str, purpose: str, legal_basis: str,
                      confirm_identifiers: bool = False, capacity: str = "") -> NewCase:
    errors: dict[str, str] = {}
    chosen_capacity: tuple[str, str] | None = None
    if capacity:
        if capacity not in {value for value, _, _ in creating_capacities(db, actor)}:
            errors["capacity"] = N_("Choose the capacity you start this case in.")
        else:
            org_id, _, role = capacity.partition("|")
            chosen_capacity = (org_id, role)
    title, purpose = title.strip(), purpose.strip()
    if not title:
        errors["title"] = N_("Give the case a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = N_("The title is too long.")
    if not purpose:
        errors["purpose"] = N_("State the purpose of this case (doelbinding).")
    elif len(purpose) > PURPOSE_MAX:
        errors["purpose"] = N_("The purpose is too long.")
    check_text(errors, {"title": title, "purpose": purpose}, multiline=("purpose",))
    basis = LegalBasis.CONSENT
    if legal_basis != LegalBasis.CONSENT.value:
        # Other grounds are scoped disclosures (portal/consent/grounds.py), never a case's.
        errors["legal_basis"] = N_("Choose a legal basis.")
    chosen_child: str | None = None
    if not anonymous:
        child = db.get(Child, child_id) if is_uuid(child_id) else None
        if child is None or child.school_id not in actor.organisations_with(Action.CHILD_LIST):
            errors["child_id"] = N_("Choose a child, or make the case anonymous.")
        else:
            chosen_child = child.id
    if errors:
        raise InvalidInput(errors)
    return NewCase(child_id=chosen_child, anonymous=anonymous, title=title, purpose=purpose,
                   legal_basis=basis, confirm_identifiers=anonymous and confirm_identifiers,
                   capacity=chosen_capacity)


def may_create(actor: Actor) -> bool:
    """Whether the case list offers "New case": a role somewhere that may create one."""
    return bool(actor.organisations_with(Action.CASE_CREATE))


def create_case(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                new: NewCase) -> str:
    _require(db, who, actor, now, Action.CASE_CREATE, "case.create", "create")
    confirmed: dict[str, tuple[str, ...]] = {}
    if new.anonymous:
        # Nothing in an anonymous case may identify the child: checked before saving.
        confirmed = guard_text(db, vault, Writer(who, actor),
                               {"title": new.title, "purpose": new.purpose}, now,
                               confirmed=new.confirm_identifiers)
    organisations = actor.organisations_with(Action.CASE_CREATE)
    organisation_id = new.capacity[0] if new.capacity else min(organisations)
    case = create_case_rows(db, vault, now, case_id=str(uuid.uuid4()), created_by=actor.person_id,
                            organisation_id=organisation_id, new=new,
                            participants=[(actor.person_id, CaseRole.CHAIR)])
    # The chair acts for the case's organisation, in a role there that may start cases.
    creating = sorted(role.value for org, role in actor.memberships if org == organisation_id
                      and Action.CASE_CREATE in ROLE_PERMISSIONS.get(role, frozenset()))
    chair = db.scalars(select(CaseParticipant).where(
        CaseParticipant.case_id == case.id, CaseParticipant.person_id == actor.person_id)).one()
    chair.organisation_id = organisation_id
    chair.capacity_role = new.capacity[1] if new.capacity else creating[0]
    db.flush()
    record_overrides(db, case.id, actor.person_id, confirmed, now)
    record(db, who, now, event_type="case.create", action="create", outcome="allowed",
           case_id=case.id, child_id=case.child_id, object_type="case", object_id=case.id)
    return case.id


def create_case_rows(db: Session, vault: Vault, now: datetime, *, case_id: str,
                     created_by: str, organisation_id: str, new: NewCase,
                     participants: Sequence[tuple[str, CaseRole]]) -> Case:
    """The rows of a new case with its encrypted fields (no policy: callers decide)."""
    key = vault.new_key(db, "case", case_id, now)
    case = Case(
        id=case_id, child_id=new.child_id, anonymous=new.anonymous,
        organisation_id=organisation_id,
        title_ct=vault.seal(key, new.title, case_field(case_id, "title")),
        purpose_ct=vault.seal(key, new.purpose, case_field(case_id, "purpose")),
        legal_basis=new.legal_basis, status=CaseStatus.OPEN, created_at=now,
        created_by=created_by,
    )
    db.add(case)
    db.flush()
    search_index.index_case(db, vault, now, case_id, title=new.title, child_id=new.child_id)
    for person_id, case_role in participants:
        _add_participant_row(db, case_id, person_id, case_role, created_by, now)
    db.flush()
    return case


def _capacity(db: Session, person_id: str,
              capacity: tuple[str, str] | None) -> tuple[str, str]:
    """The capacity (organisation id, role) to add someone in, which must be one of their
    memberships; without a choice, their only membership (or the first, for callers
    that pick no capacity, such as the demo data)."""
    held = capacities_of(db, person_id)
    if not held and db.scalar(select(Membership.id).where(Membership.person_id == person_id)
                              .limit(1)) is not None:
        raise InvalidInput({"person_id": CONTENT_FREE_REFUSAL})
    if not held:
        raise InvalidInput({"person_id": N_("This person belongs to no organisation.")})
    if capacity is not None and capacity[1] in CONTENT_FREE_ROLES:
        raise InvalidInput({"person_id": CONTENT_FREE_REFUSAL})
    if capacity is not None and capacity not in held:
        raise InvalidInput({"person_id": N_("Choose a capacity this person holds.")})
    return capacity or held[0]


def _add_participant_row(db: Session, case_id: str, person_id: str, case_role: CaseRole,
                         added_by: str, now: datetime,
                         capacity: tuple[str, str] | None = None) -> CaseParticipant:
    organisation_id, role = _capacity(db, person_id, capacity)
    participant = CaseParticipant(case_id=case_id, person_id=person_id,
                                  organisation_id=organisation_id, capacity_role=role,
                                  case_role=case_role, added_at=now, added_by=added_by)
    db.add(participant)
    db.flush()
    return participant


def add_participant(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                    case_id: str, person_id: str, case_role: str, *,
                    confirmed: bool = False) -> None:
    """Add a participant; when that changes who must consent or who may read what, raise
    ``ConfirmationNeeded`` with the consequence unless the chair ``confirmed`` it."""
    facts = authorize(db, who, actor, now, Action.CASE_MANAGE_PARTICIPANTS, case_id,
                      event_type="case.participant.add", action_code="update", vault=vault)
    try:
        role = CaseRole(case_role)
    except ValueError:
        role = None
    person_id, _, chosen = person_id.partition("|")
    capacity = tuple(chosen.split("|", 1)) if chosen else None
    person = db.get(Person, person_id) if is_uuid(person_id) else None
    errors = {}
    if role not in ADDABLE_ROLES:
        errors["case_role"] = N_("Choose a role in the case.")
    if person is None or person.kind is not PersonKind.PROFESSIONAL or not person.active:
        errors["person_id"] = N_("Choose a professional to add.")
    elif person.id in facts.participants:
        errors["person_id"] = N_("This person already takes part in the case.")
    if errors or role is None or person is None:
        raise InvalidInput(errors)
    organisation_id, capacity_role = _capacity(
        db, person.id, (capacity[0], capacity[1]) if capacity and len(capacity) == 2 else None)
    preview = preview_change(db, vault, actor, facts, add=Newcomer(
        person.id, organisation_id, capacity_role, role))
    if preview.needs_confirmation and not confirmed:
        raise ConfirmationNeeded(preview)
    participant = _add_participant_row(db, facts.case_id, person.id, role, actor.person_id,
                                       now, capacity=(organisation_id, capacity_role))
    record_setting_change(db, who, now, facts, preview.setting_before, preview.setting_after,
                          participant.id)
    notifications.added_to_case(db, now, facts.case_id, person.id, actor.person_id)


def choose_capacity(db: Session, who: Requester, actor: Actor, now: datetime, case_id: str,
                    value: str) -> None:
    """The participant chooses the organisation and role they act in on this case."""
    facts = authorize(db, who, actor, now, Action.CASE_CHOOSE_CAPACITY, case_id,
                      event_type="case.participant.capacity", action_code="update")
    organisation_id, _, role = value.partition("|")
    if (organisation_id, role) not in capacities_of(db, actor.person_id):
        raise InvalidInput({"capacity": N_("Choose a capacity you hold.")})
    participant = db.scalars(select(CaseParticipant).where(
        CaseParticipant.case_id == facts.case_id,
        CaseParticipant.person_id == actor.person_id)).one()
    case = db.get_one(Case, facts.case_id)
    before = case_setting(db, case)
    participant.organisation_id, participant.capacity_role = organisation_id, role
    db.flush()
    record_setting_change(db, who, now, facts, before, case_setting(db, case), participant.id)


def remove_participant(db: Session, vault: Vault, who: Requester, actor: Actor,
                       now: datetime, case_id: str, participant_id: str, *,
                       confirmed: bool = False) -> None:
    """Remove a participant; a consequence (a change of setting) needs ``confirmed``."""
    facts = authorize(db, who, actor, now, Action.CASE_MANAGE_PARTICIPANTS, case_id,
                      event_type="case.participant.remove", action_code="update", vault=vault)
    participant = db.get(CaseParticipant, participant_id) if is_uuid(participant_id) else None
    if participant is None or participant.case_id != facts.case_id:
        raise InvalidInput({"participant": N_("No such participant in this case.")})
    if participant.case_role is CaseRole.CHAIR:
        raise InvalidInput({"participant": N_("The chair cannot be removed.")})
    preview = preview_change(db, vault, actor, facts, remove=participant.person_id)
    if (preview.needs_confirmation or preview.setting_changes) and not confirmed:
        raise ConfirmationNeeded(preview)
    record_setting_change(db, who, now, facts, preview.setting_before, preview.setting_after,
                          participant.id)
    db.delete(participant)
    db.flush()


def may_close(db: Session, actor: Actor, case_id: str) -> bool:
    """Whether a close would be allowed: the question before the confirmation page.
    Nothing is recorded here: the page that follows (the confirmation, or the refused
    close) records the one access it is."""
    facts = case_facts(db, case_id, None, None)
    return facts is not None and decide(actor, Action.CASE_CLOSE, facts).allowed


def close_case(db: Session, who: Requester, actor: Actor, now: datetime, case_id: str) -> None:
    facts = authorize(db, who, actor, now, Action.CASE_CLOSE, case_id,
                      event_type="case.close", action_code="update")
    case = db.get_one(Case, facts.case_id)
    case.status = CaseStatus.CLOSED
    case.closed_at = now
    db.flush()
