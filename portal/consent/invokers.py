"""Who may invoke a legal ground without consent: the policy's case role, then the
roles the participant's organisation allows (an administrator's setting).

Its own module so the case page can offer the grounds page only to whom it opens,
without importing the grounds service (which imports the case service)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.consent.models import OrganisationGroundRole
from portal.people.models import Role
from portal.policy import Action, Actor, CaseFacts, Decision, Deny, decide

DEFAULT_GROUND_ROLES = frozenset({Role.CARE_COORDINATOR.value, Role.SCHOOL_LEADER.value,
                                  Role.YOUTH_CARE_WORKER.value})


def ground_roles(db: Session, organisation_id: str) -> frozenset[str]:
    configured = db.scalars(select(OrganisationGroundRole.role).where(
        OrganisationGroundRole.organisation_id == organisation_id)).all()
    return frozenset(configured) if configured else DEFAULT_GROUND_ROLES


def check(db: Session, actor: Actor, facts: CaseFacts | None, action: Action) -> Decision:
    """The policy, then (to invoke) the roles the participant's organisation allows."""
    if facts is None:
        return Deny(reason="no_such_case", hide=True)
    decision = decide(actor, action, facts)
    if decision.allowed and action is Action.GROUND_INVOKE:
        organisation = facts.participant_organisations.get(actor.person_id)
        capacity = facts.participant_roles.get(actor.person_id)
        roles = {role.value for org, role in actor.memberships
                 if org == organisation and (capacity is None or role.value == capacity)}
        if organisation is None or not roles & ground_roles(db, organisation):
            return Deny(reason="ground_role_not_allowed")
    return decision


def may_open_grounds(db: Session, actor: Actor, facts: CaseFacts) -> bool:
    """The grounds page opens for the chair (its duties) and for who may invoke one."""
    return (decide(actor, Action.GROUND_TASKS, facts).allowed
            or check(db, actor, facts, Action.GROUND_INVOKE).allowed)
