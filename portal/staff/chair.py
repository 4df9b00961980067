"""Appointing a new chair: the care coordinator of the case's organisation.

The page shows no case content (the care coordinator need not be a
participant): only that the case needs a chair, who left, and whom of the
organisation's staff can be appointed, each in a capacity they hold there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.cases.gate import authorize, case_facts
from portal.cases.models import Case, CaseParticipant, CaseRole
from portal.errors import N_, InvalidInput
from portal.people.models import Membership, Organisation, Person, PersonKind
from portal.policy import Action, Actor, decide
from portal.staff.models import ChairVacancy


@dataclass(frozen=True)
class ChairPage:
    case_id: str
    organisation: str
    chair: str | None  # the current chair's name, when there is one
    vacant_since: datetime | None
    left: str | None
    candidates: tuple[tuple[str, str, str], ...]  # ("person id|role", name, role)


@dataclass(frozen=True)
class Vacancy:
    case_id: str
    since: datetime


def vacancies_to_fill(db: Session, who: Requester, actor: Actor,
                      now: datetime) -> list[Vacancy]:
    """The chairless cases this actor may appoint a chair for (nothing of their content);
    each listed case is decided and recorded on its own."""
    organisations = actor.organisations_with(Action.CASE_APPOINT_CHAIR)
    if not organisations:
        return []
    rows = db.execute(
        select(ChairVacancy.case_id, ChairVacancy.since).join(Case, Case.id == ChairVacancy.case_id)
        .where(Case.organisation_id.in_(organisations)).order_by(ChairVacancy.since)).all()
    found = []
    for case_id, since in rows:
        facts = case_facts(db, case_id)
        if facts is None:
            continue
        decision = decide(actor, Action.CASE_APPOINT_CHAIR, facts)
        record(db, who, now, event_type="case.chair.list", action="read", decision=decision,
               case_id=case_id, child_id=facts.child_id, object_type="case", object_id=case_id)
        if decision.allowed:
            found.append(Vacancy(case_id=case_id, since=since))
    return found


def chair_page(db: Session, who: Requester, actor: Actor, now: datetime,
               case_id: str) -> ChairPage:
    facts = authorize(db, who, actor, now, Action.CASE_APPOINT_CHAIR, case_id,
                      event_type="case.chair.view", action_code="read")
    assert facts.organisation_id is not None
    vacancy = db.get(ChairVacancy, facts.case_id)
    chair = next((person for person, role in facts.participants.items()
                  if role is CaseRole.CHAIR), None)
    return ChairPage(
        case_id=facts.case_id,
        organisation=db.get_one(Organisation, facts.organisation_id).name,
        chair=_name(db, chair),
        vacant_since=vacancy.since if vacancy else None,
        left=_name(db, vacancy.left_person_id) if vacancy else None,
        candidates=tuple(_candidates(db, facts.organisation_id)))


def _name(db: Session, person_id: str | None) -> str | None:
    if person_id is None:
        return None
    return db.scalar(select(Person.display_name).where(Person.id == person_id))


def _candidates(db: Session, organisation_id: str) -> list[tuple[str, str, str]]:
    rows = db.execute(
        select(Person.id, Person.display_name, Membership.role)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.organisation_id == organisation_id, Person.active.is_(True),
               Person.kind == PersonKind.PROFESSIONAL)
        .order_by(Person.display_name, Membership.role)).all()
    return [(f"{person_id}|{role.value}", name, role.value) for person_id, name, role in rows]


def appoint_chair(db: Session, who: Requester, actor: Actor, now: datetime, case_id: str,
                  choice: str) -> None:
    """Make the chosen member of the case's organisation its chair; the old chair stays
    on as a participant, and the vacancy (if any) is closed."""
    facts = authorize(db, who, actor, now, Action.CASE_APPOINT_CHAIR, case_id,
                      event_type="case.chair.appoint", action_code="update")
    assert facts.organisation_id is not None
    if choice not in {value for value, _, _ in _candidates(db, facts.organisation_id)}:
        raise InvalidInput({"chair": N_("Choose who becomes the chair.")})
    person_id, _, role = choice.partition("|")
    for participant in db.scalars(select(CaseParticipant).where(
            CaseParticipant.case_id == facts.case_id)):
        if participant.case_role is CaseRole.CHAIR and participant.person_id != person_id:
            participant.case_role = CaseRole.PARTICIPANT
    db.flush()
    appointed = db.scalars(select(CaseParticipant).where(
        CaseParticipant.case_id == facts.case_id,
        CaseParticipant.person_id == person_id)).first()
    if appointed is None:
        appointed = CaseParticipant(case_id=facts.case_id, person_id=person_id,
                                    added_at=now, added_by=actor.person_id)
        db.add(appointed)
    appointed.case_role = CaseRole.CHAIR
    appointed.organisation_id, appointed.capacity_role = facts.organisation_id, role
    vacancy = db.get(ChairVacancy, facts.case_id)
    if vacancy is not None:
        db.delete(vacancy)
    db.flush()
