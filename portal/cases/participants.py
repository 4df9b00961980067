"""Who takes part in a case: the participants, adding and removing them, their capacity.

Functions take the database session first and only ``flush()``; the request
boundary commits. A change that alters who must consent or who may read what
needs the chair's confirmation first (``portal.cases.preview``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.service import Requester
from portal.cases.capacity import CONTENT_FREE_ROLES, capacities_of
from portal.cases.gate import authorize, is_uuid
from portal.cases.models import Case, CaseParticipant, CaseRole
from portal.cases.preview import ConfirmationNeeded, Newcomer, preview_change, record_setting_change
from portal.consent.facts import case_setting
from portal.errors import N_, InvalidInput
from portal.notifications import events as notifications
from portal.people.models import Membership, Organisation, Person, PersonKind
from portal.policy import Action, Actor
from portal.vault.service import Vault

ADDABLE_ROLES = (CaseRole.PARTICIPANT, CaseRole.MINUTE_TAKER, CaseRole.OBSERVER)
CONTENT_FREE_REFUSAL = N_("A data protection officer or an administrator cannot take part in"
                          " a case: these roles see no case content.")


@dataclass(frozen=True)
class ParticipantView:
    id: str
    person_id: str
    name: str
    organisation: str
    case_role: CaseRole
    capacity_role: str | None = None  # the role they act in (a Role value)


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
