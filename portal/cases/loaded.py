"""What one request loaded about a case, kept for the rest of that request.

The case page asks the same questions several times (the case's own view, its
agenda, its documents, the consent summary): the case and child rows, the
participants, the facts the policy decides on. They are loaded once and kept in
the session's ``info`` for the current transaction only.

The memo is dropped at every commit and rollback, and before any flush that
writes something other than access records (or an ORM ``UPDATE``/``DELETE``
statement), so no decision is ever made on facts older than a write of the
same request. Keys into the memo name what they hold; values are whatever
the loader returned (frozen facts or ORM rows of this transaction).

What the memo cannot see: a write through ``db.connection().execute(...)``
(it bypasses the session's execute events) and an in-place change of a mutable
column that does not mark its row dirty. Write the tables the policy decides on
(cases, participants, consents, custody, restrictions, grants) through the
session only; today only the access log's chain head is written past it, and it
is no fact.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Row, Select, bindparam, event, select
from sqlalchemy.orm import ORMExecuteState, Session, aliased

from portal.audit.models import AccessRecord
from portal.cases.models import Case, CaseParticipant, CaseRole
from portal.consent.models import BreakGlassGrant, OrganisationConsentRule, Restriction
from portal.people.models import (
    Child,
    Membership,
    Organisation,
    OrganisationKind,
    Person,
    Role,
)
from portal.rights.models import RestrictionGround, RestrictionNote
from portal.staff.models import ChairVacancy
from portal.vault.models import DataKey
from portal.vault.service import hold_keys

_MEMO = "portal.cases.loaded"
T = TypeVar("T")


def remembered(db: Session, key: Hashable, load: Callable[[], T]) -> T:
    """``load()`` once per transaction for ``key``; later calls get the same value."""
    if _pending_write(db):  # not flushed yet: what is remembered may be stale
        forget(db)
    memo: dict[Hashable, Any] = db.info.setdefault(_MEMO, {})
    if key not in memo:
        memo[key] = load()
    return memo[key]  # type: ignore[no-any-return]


def remember(db: Session, key: Hashable, value: object) -> None:
    """Keep ``value`` under ``key`` for the rest of this transaction (until a write)."""
    if _pending_write(db):
        forget(db)
    db.info.setdefault(_MEMO, {})[key] = value


def recall(db: Session, key: Hashable) -> object | None:
    """What was remembered under ``key`` in this transaction, if nothing was written since."""
    if _pending_write(db):
        forget(db)
    memo: dict[Hashable, object] = db.info.get(_MEMO, {})
    return memo.get(key)


def want_keys(db: Session, key_ids: Iterable[str]) -> None:
    """Data keys a page will need once its reads are recorded (see ``wanted_keys``)."""
    wanted: set[str] = db.info.setdefault(_MEMO, {}).setdefault("wanted keys", set())
    wanted.update(key_ids)


def wanted_keys(db: Session) -> set[str]:
    """The keys asked for with ``want_keys``, to unwrap in one look-up, and forgotten."""
    wanted: set[str] = db.info.get(_MEMO, {}).pop("wanted keys", set())
    return wanted


def forget(db: Session) -> None:
    """Drop everything remembered (a write, or the transaction's end)."""
    db.info.pop(_MEMO, None)


@event.listens_for(Session, "after_commit")
def _after_commit(db: Session) -> None:
    forget(db)


@event.listens_for(Session, "after_rollback")
def _after_rollback(db: Session) -> None:
    forget(db)


@event.listens_for(Session, "after_soft_rollback")
def _after_soft_rollback(db: Session, previous_transaction: Any) -> None:
    forget(db)


def _pending_write(db: Session) -> bool:
    # Access records are the one write a read makes: they change no fact.
    return any(not isinstance(row, AccessRecord) for row in (*db.new, *db.dirty, *db.deleted))


@event.listens_for(Session, "before_flush")
def _before_flush(db: Session, flush_context: Any, instances: Any) -> None:
    if _pending_write(db):
        forget(db)


@event.listens_for(Session, "do_orm_execute")
def _on_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        forget(state.session)


@dataclass(frozen=True)
class LoadedParticipant:
    """One participant with the names the pages show."""

    id: str
    person_id: str
    name: str
    organisation_id: str
    organisation: str
    case_role: CaseRole
    capacity_role: str | None
    organisation_kind: OrganisationKind | None
    added_at: datetime


@dataclass(frozen=True)
class LoadedCase:
    """A case's rows as this transaction read them (one query each)."""

    case: Case
    child: Child | None
    participants: tuple[LoadedParticipant, ...]
    organisation_kind: OrganisationKind | None  # of the case's own organisation
    chair_vacant: bool  # a chair left and none was appointed yet (portal.staff.vacancy)
    # The case's organisation's consent rule row, if it set one (portal.consent.facts).
    consent_rule: OrganisationConsentRule | None = None
    # Restrictions in force: (item id or None for the whole case, the note's ground).
    restrictions: tuple[tuple[str | None, RestrictionGround | None], ...] = ()
    # Every break-glass grant with its holder's name, newest first (expired ones too).
    grants: tuple[tuple[BreakGlassGrant, str], ...] = ()
    # Per participant (person id), the roles their membership of the organisation they
    # act for holds (consent recipients, portal.consent.summary).
    member_roles: tuple[tuple[str, str, str], ...] = ()  # (person id, organisation id, role)

    def names(self) -> dict[str, str]:
        return {p.person_id: p.name for p in self.participants}


_CaseRow = Row[*tuple[Any, ...]]
_ParticipantRow = Row[CaseParticipant, str, str, OrganisationKind, Role]


def _case_select() -> Select[*tuple[Any, ...]]:
    """The case's row with what the decision needs (a row per restriction and grant
    pair: they are few per case)."""
    case_key, child_key = aliased(DataKey), aliased(DataKey)
    holder = aliased(Person)
    return (select(Case, Child, Organisation.kind, ChairVacancy.case_id,
                   OrganisationConsentRule, BreakGlassGrant, holder.display_name,
                   Restriction.id, Restriction.item_id, RestrictionNote.ground,
                   case_key, child_key)
            .outerjoin(Child, Child.id == Case.child_id)
            .outerjoin(Organisation, Organisation.id == Case.organisation_id)
            .outerjoin(ChairVacancy, ChairVacancy.case_id == Case.id)
            .outerjoin(OrganisationConsentRule,
                       OrganisationConsentRule.organisation_id == Case.organisation_id)
            .outerjoin(Restriction, (Restriction.case_id == Case.id)
                       & Restriction.lifted_at.is_(None))
            .outerjoin(RestrictionNote, RestrictionNote.restriction_id == Restriction.id)
            .outerjoin(BreakGlassGrant, BreakGlassGrant.case_id == Case.id)
            .outerjoin(holder, holder.id == BreakGlassGrant.person_id)
            .outerjoin(case_key, (case_key.owner_type == "case")
                       & (case_key.owner_id == Case.id))
            .outerjoin(child_key, (child_key.owner_type == "child")
                       & (child_key.owner_id == Case.child_id)))


# Built once each: the statements cost more to build than to run.
@cache
def _case_rows() -> Select[*tuple[Any, ...]]:
    return _case_select().where(Case.id == bindparam("case_id"))


@cache
def _many_case_rows() -> Select[*tuple[Any, ...]]:
    return _case_select().where(Case.id.in_(bindparam("case_ids", expanding=True)))


def _participant_select() -> Select[CaseParticipant, str, str, OrganisationKind, Role]:
    """The participants with names and membership roles, in the order they joined."""
    return (select(CaseParticipant, Person.display_name, Organisation.name, Organisation.kind,
                   Membership.role)
            .outerjoin(Person, Person.id == CaseParticipant.person_id)
            .outerjoin(Organisation, Organisation.id == CaseParticipant.organisation_id)
            .outerjoin(Membership, (Membership.person_id == CaseParticipant.person_id)
                       & (Membership.organisation_id == CaseParticipant.organisation_id))
            .order_by(CaseParticipant.added_at, Person.display_name))


@cache
def _participant_rows() -> Select[CaseParticipant, str, str, OrganisationKind, Role]:
    return _participant_select().where(CaseParticipant.case_id == bindparam("case_id"))


@cache
def _many_participant_rows() -> Select[CaseParticipant, str, str, OrganisationKind, Role]:
    return _participant_select().where(
        CaseParticipant.case_id.in_(bindparam("case_ids", expanding=True)))


def load_case(db: Session, case_id: str) -> LoadedCase | None:
    """The case with its child, its organisation's kind and consent rule, its chair
    vacancy, restrictions in force, break-glass grants and data keys (one query), and
    its participants with names and membership roles (one query), once per
    transaction. ``case_id`` must look like an id."""
    def load() -> LoadedCase | None:
        rows = db.execute(_case_rows(), {"case_id": case_id}).all()
        if not rows:
            return None
        return _loaded(db, rows, db.execute(_participant_rows(), {"case_id": case_id}).all())
    return remembered(db, ("case", case_id), load)


def load_cases(db: Session, case_ids: Iterable[str]) -> None:
    """Read many cases as ``load_case`` reads one, in two queries for all of them, and
    keep them for the rest of the transaction: a page about many cases (the start
    page) then decides on each without a query of its own. Ids must look like ids."""
    memo: dict[Hashable, Any] = db.info.get(_MEMO, {})
    wanted = [i for i in dict.fromkeys(case_ids) if ("case", i) not in memo]
    if not wanted:
        return
    rows: dict[str, list[_CaseRow]] = {}
    for row in db.execute(_many_case_rows(), {"case_ids": wanted}):
        rows.setdefault(row[0].id, []).append(row)
    participants: dict[str, list[_ParticipantRow]] = {}
    for row in db.execute(_many_participant_rows(), {"case_ids": wanted}):
        participants.setdefault(row[0].case_id, []).append(row)
    for case_id in wanted:
        remember(db, ("case", case_id),
                 _loaded(db, rows[case_id], participants.get(case_id, []))
                 if case_id in rows else None)


def _loaded(db: Session, rows: Sequence[_CaseRow],
            participants: Sequence[_ParticipantRow]) -> LoadedCase:
    case, child, kind, vacant, rule = rows[0][:5]
    restrictions = {found: (item, ground) for *_, found, item, ground, _, _ in rows
                    if found is not None}
    grants = {row[5].id: (row[5], row[6] or "") for row in rows if row[5] is not None}
    # The case's and the child's wrapped keys, held for this transaction (no look-up
    # of their own later); nothing is unwrapped or decrypted here.
    hold_keys(db, (key for *_, case_key_row, child_key_row in rows
                   for key in (case_key_row, child_key_row)))
    seen: dict[str, LoadedParticipant] = {}
    for p, name, org, org_kind, _ in participants:
        seen.setdefault(p.id, LoadedParticipant(
            id=p.id, person_id=p.person_id, name=name or "",
            organisation_id=p.organisation_id, organisation=org or "",
            case_role=p.case_role, capacity_role=p.capacity_role,
            organisation_kind=org_kind, added_at=p.added_at))
    return LoadedCase(
        case=case, child=child, organisation_kind=kind, chair_vacant=vacant is not None,
        participants=tuple(seen.values()), consent_rule=rule,
        restrictions=tuple(restrictions.values()),
        grants=tuple(sorted(grants.values(), key=lambda g: g[0].granted_at, reverse=True)),
        member_roles=tuple((p.person_id, p.organisation_id, role.value)
                           for p, _, _, _, role in participants if role is not None))
