"""The capacities a professional can act in on a case: (organisation, role) pairs.

A person with several memberships chooses one when added, when starting a
case, and on the case page; the policy counts only that role.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.cases.models import CaseParticipant
from portal.people.models import Membership, Organisation, Role
from portal.permissions import ROLE_PERMISSIONS
from portal.policy import Action, Actor

# Both roles promise "no case content": nobody takes part in a case in them.
CONTENT_FREE_ROLES = frozenset({Role.DPO, Role.ADMIN})


def capacities_of(db: Session, person_id: str) -> list[tuple[str, str]]:
    """The (organisation id, role) pairs a professional can act in on a case, in a stable
    order; the content-free roles (DPO, administrator) are never among them."""
    rows = db.execute(select(Membership.organisation_id, Membership.role)
                      .where(Membership.person_id == person_id,
                             Membership.role.not_in(CONTENT_FREE_ROLES))
                      .order_by(Membership.organisation_id, Membership.role)).all()
    return [(org, role.value) for org, role in rows]


def capacity_options(db: Session, person_id: str) -> tuple[tuple[str, str, str], ...]:
    rows = db.execute(select(Membership.organisation_id, Organisation.name, Membership.role)
                      .join(Organisation, Organisation.id == Membership.organisation_id)
                      .where(Membership.person_id == person_id,
                             Membership.role.not_in(CONTENT_FREE_ROLES))
                      .order_by(Organisation.name, Membership.role)).all()
    if len(rows) < 2:
        return ()
    return tuple((f"{org_id}|{role.value}", name, role.value) for org_id, name, role in rows)


def capacity_value(db: Session, case_id: str, person_id: str) -> str:
    row = db.execute(select(CaseParticipant.organisation_id, CaseParticipant.capacity_role)
                     .where(CaseParticipant.case_id == case_id,
                            CaseParticipant.person_id == person_id)).first()
    return f"{row[0]}|{row[1]}" if row is not None and row[1] else ""


def creating_capacities(db: Session, actor: Actor) -> list[tuple[str, str, str]]:
    """The capacities ("org id|role", organisation name, role) in which the actor may start
    a case; the case belongs to that organisation."""
    names: dict[str, str] = dict(db.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.id.in_(actor.organisation_ids))).all())
    return sorted(((f"{org}|{role.value}", names.get(org, ""), role.value)
                   for org, role in actor.memberships
                   if Action.CASE_CREATE in ROLE_PERMISSIONS.get(role, frozenset())),
                  key=lambda option: (option[1], option[2]))
