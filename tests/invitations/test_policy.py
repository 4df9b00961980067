"""Who may manage a child's invitations: the policy alone decides (pure)."""

from __future__ import annotations

import pytest

from portal.people.models import PersonKind, Role
from portal.policy import Action, Actor, ChildFacts, Deny, decide

SCHOOL, OTHER_SCHOOL, YOUTH_CARE = "school-a", "school-b", "youth-care"
CHILD = ChildFacts(child_id="child-1", school_id=SCHOOL)


def professional(org: str, role: Role) -> Actor:
    return Actor(person_id=f"{org}-{role}", kind=PersonKind.PROFESSIONAL, name="x",
                 memberships=frozenset({(org, role)}))


def test_the_care_coordinator_of_the_childs_school_manages_its_invitations() -> None:
    actor = professional(SCHOOL, Role.CARE_COORDINATOR)
    assert decide(actor, Action.INVITATION_MANAGE, child=CHILD).allowed
    assert decide(actor, Action.INVITATION_LIST).allowed


@pytest.mark.parametrize(("actor", "hidden"), [
    (professional(SCHOOL, Role.MENTOR), False),  # a colleague knows the child: 403
    (professional(SCHOOL, Role.SCHOOL_LEADER), False),
    (professional(OTHER_SCHOOL, Role.CARE_COORDINATOR), True),  # elsewhere: 404
    (professional(YOUTH_CARE, Role.YOUTH_CARE_WORKER), True),
    (professional("portal", Role.ADMIN), True),
    (Actor(person_id="parent", kind=PersonKind.CITIZEN, name="x"), True),
])
def test_everyone_else_is_refused(actor: Actor, hidden: bool) -> None:
    decision = decide(actor, Action.INVITATION_MANAGE, child=CHILD)
    assert isinstance(decision, Deny) and decision.hide is hidden


def test_the_child_is_required() -> None:
    with pytest.raises(ValueError, match="child"):
        decide(professional(SCHOOL, Role.CARE_COORDINATOR), Action.INVITATION_MANAGE)
