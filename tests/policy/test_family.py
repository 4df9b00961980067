"""Parents, guardians, foster parents and the pupil: what the policy lets them do."""

from __future__ import annotations

import pytest

from portal.cases.models import CaseStatus
from portal.consent.access import Standing
from portal.policy import Action, Allow, ChildFacts, Deny, FamilyPart, decide, family_parts
from tests.policy._world import (
    MENTOR,
    adult,
    born,
    case,
    citizen,
    consent,
    item,
    parent,
    pid,
)

MOTHER, FATHER, EX, FOSTER, PUPIL, STRANGER = (
    citizen(n) for n in ("mother", "father", "ex", "foster", "pupil", "stranger"))
ADULTS = (parent("mother"), parent("father"), parent("ex", custody=False),
          adult("foster", "foster_parent"))
YOUNG = case(birthdate=born(13), adults=ADULTS, pupil="pupil")
SIXTEEN = case(birthdate=born(16), adults=ADULTS, pupil="pupil")


@pytest.mark.parametrize(("who", "full", "general", "give", "hidden"), [
    (MOTHER, True, True, True, False),
    (EX, False, True, False, False),
    (FOSTER, False, False, False, True),
    (PUPIL, False, False, False, True),  # under 16 the parents speak for the child
    (STRANGER, False, False, False, True),
])
def test_a_child_under_16(who: object, full: bool, general: bool, give: bool,
                          hidden: bool) -> None:
    view = decide(who, Action.FAMILY_VIEW, YOUNG)  # type: ignore[arg-type]
    assert view.allowed is full
    assert decide(who, Action.FAMILY_GENERAL, YOUNG).allowed is general  # type: ignore[arg-type]
    assert decide(who, Action.CONSENT_GIVE, YOUNG).allowed is give  # type: ignore[arg-type]
    if not general:
        assert isinstance(view, Deny) and view.hide is hidden


def test_from_16_the_pupil_sees_and_the_parents_get_general_information() -> None:
    assert decide(PUPIL, Action.FAMILY_VIEW, SIXTEEN).allowed
    assert decide(PUPIL, Action.CONSENT_GIVE, SIXTEEN).allowed
    for parent_ in (MOTHER, EX):
        assert not decide(parent_, Action.FAMILY_VIEW, SIXTEEN).allowed
        assert decide(parent_, Action.FAMILY_GENERAL, SIXTEEN).allowed
        assert not decide(parent_, Action.CONSENT_GIVE, SIXTEEN).allowed
    assert not decide(FOSTER, Action.FAMILY_GENERAL, SIXTEEN).allowed


def test_the_pupil_of_16_can_let_a_parent_see_it() -> None:
    shared = case(birthdate=born(16), adults=ADULTS, pupil="pupil",
                  consents=(consent("child", recipients=(f"adult:{pid('mother')}",)),))
    # The title and purpose stay the pupil's: only the shared items are let in.
    assert not decide(MOTHER, Action.FAMILY_VIEW, shared).allowed
    assert decide(MOTHER, Action.FAMILY_GENERAL, shared).allowed
    assert decide(MOTHER, Action.ITEM_READ, shared, item("behaviour", shared=True)).allowed
    # Only the categories she shared, and only with that parent.
    assert not decide(MOTHER, Action.ITEM_READ, shared, item("health", shared=True)).allowed
    assert not decide(FATHER, Action.FAMILY_VIEW, shared).allowed


def test_foster_parents_see_what_the_custodians_shared_with_them() -> None:
    to_foster = (f"adult:{pid('foster')}",)
    facts = case(birthdate=born(9), adults=ADULTS, consents=(
        consent("mother", recipients=to_foster), consent("father", recipients=to_foster)))
    assert not decide(FOSTER, Action.FAMILY_VIEW, facts).allowed  # no title, no purpose
    assert family_parts(FOSTER, facts) == {FamilyPart.EXISTENCE}
    assert decide(FOSTER, Action.ITEM_READ, facts, item("behaviour", shared=True)).allowed
    assert not decide(FOSTER, Action.ITEM_READ, facts, item("health", shared=True)).allowed
    assert not decide(FOSTER, Action.CONSENT_GIVE, facts).allowed
    one_parent = case(birthdate=born(9), adults=ADULTS,
                      consents=(consent("mother", recipients=to_foster),))
    assert not decide(FOSTER, Action.FAMILY_GENERAL, one_parent).allowed


def test_the_family_reads_only_what_the_chair_shared_with_parents() -> None:
    assert decide(MOTHER, Action.ITEM_READ, YOUNG, item("health", shared=True)).allowed
    refused = decide(MOTHER, Action.ITEM_READ, YOUNG, item("health"))
    assert isinstance(refused, Deny) and refused.reason == "not_shared_with_parents"
    assert not decide(EX, Action.ITEM_READ, YOUNG, item("health", shared=True)).allowed


def test_professionals_do_not_give_consent_and_citizens_not_read_case_pages() -> None:
    refused = decide(MENTOR, Action.CONSENT_GIVE, YOUNG)
    assert isinstance(refused, Deny) and refused.reason == "not_family" and not refused.hide
    assert not decide(MOTHER, Action.CASE_VIEW, YOUNG).allowed
    assert not decide(MOTHER, Action.CONSENT_RECORD, YOUNG).allowed


def test_withdrawal_stays_possible_on_a_closed_case_giving_does_not() -> None:
    closed = case(birthdate=born(13), adults=ADULTS, status=CaseStatus.CLOSED)
    assert decide(MOTHER, Action.CONSENT_WITHDRAW, closed).allowed
    assert not decide(MOTHER, Action.CONSENT_GIVE, closed).allowed


def test_anonymous_cases_have_no_family() -> None:
    decision = decide(MOTHER, Action.FAMILY_GENERAL, case(anonymous=True))
    assert isinstance(decision, Deny) and decision.hide


def test_family_list_is_for_citizens() -> None:
    assert isinstance(decide(MOTHER, Action.FAMILY_LIST), Allow)
    assert not decide(MENTOR, Action.FAMILY_LIST).allowed


@pytest.mark.parametrize(("standing", "allowed", "hidden"), [
    (Standing.PUPIL, True, False), (Standing.CUSTODIAN, True, False),
    (Standing.INFORMED, False, False), (Standing.GENERAL, False, False),
    (Standing.NO_RIGHT, False, True), (Standing.UNRELATED, False, True),
])
def test_who_looked_at_the_child_follows_the_family_standing(
        standing: Standing, allowed: bool, hidden: bool) -> None:
    decision = decide(MOTHER, Action.AUDIT_CHILD, child=ChildFacts("c", standing))
    assert decision.allowed is allowed
    assert allowed or (isinstance(decision, Deny) and decision.hide is hidden)


def test_a_professional_has_no_standing_towards_a_child() -> None:
    decision = decide(MENTOR, Action.AUDIT_CHILD, child=ChildFacts("c", Standing.CUSTODIAN))
    assert isinstance(decision, Deny) and decision.hide
