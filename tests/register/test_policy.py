"""Who keeps an organisation's register: decided per organisation (pure)."""

from __future__ import annotations

import pytest

from portal.people.models import PersonKind, Role
from portal.policy import Action, Actor, Deny, decide

SCHOOL_A, SCHOOL_B = "org-a", "org-b"


def professional(*memberships: tuple[str, Role]) -> Actor:
    return Actor(person_id="p", kind=PersonKind.PROFESSIONAL, name="P",
                 memberships=frozenset(memberships))


@pytest.mark.parametrize("action", [Action.REGISTER_VIEW, Action.REGISTER_EDIT])
@pytest.mark.parametrize(("actor", "allowed", "hidden"), [
    (professional((SCHOOL_A, Role.CARE_COORDINATOR)), True, False),
    (professional((SCHOOL_A, Role.ADMIN)), True, False),  # the school's administrator
    (professional((SCHOOL_A, Role.MENTOR)), False, False),  # a colleague: 403
    (professional((SCHOOL_A, Role.SCHOOL_LEADER)), False, False),
    (professional((SCHOOL_B, Role.CARE_COORDINATOR)), False, True),  # another school: 404
    (professional((SCHOOL_B, Role.ADMIN), (SCHOOL_A, Role.MENTOR)), False, False),
    (professional((SCHOOL_A, Role.DPO)), False, False),
    (Actor(person_id="c", kind=PersonKind.CITIZEN, name="C"), False, True),
])
def test_the_role_must_be_held_in_that_very_organisation(action: Action, actor: Actor,
                                                         allowed: bool, hidden: bool) -> None:
    decision = decide(actor, action, organisation_id=SCHOOL_A)
    assert decision.allowed is allowed
    if not allowed:
        assert isinstance(decision, Deny) and decision.hide is hidden
