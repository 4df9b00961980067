"""Restrictions, the safety exception, anonymous cases and missing facts, in the policy."""

from __future__ import annotations

from dataclasses import replace

import pytest

from portal.cases.models import CaseStatus, LegalBasis
from portal.policy import Action, Allow, Deny, decide
from tests.policy._world import (
    IB,
    MENTOR,
    NOTULIST,
    OUTSIDER,
    TWO_PARENTS,
    WORKER,
    case,
    consent,
    grant,
    item,
)

COVERED = case(adults=TWO_PARENTS, consents=(consent("mother"), consent("father")))


def test_a_restricted_case_is_read_by_nobody_whatever_the_consent() -> None:
    facts = replace(COVERED, restricted=True)
    for reader in (IB, MENTOR, NOTULIST):
        decision = decide(reader, Action.ITEM_READ, facts, item("behaviour"))
        assert isinstance(decision, Deny) and decision.reason == "restricted"
    # ... not even with a legal ground or the safety exception.
    grounded = replace(facts, legal_basis=LegalBasis.LEGAL_OBLIGATION,
                       break_glass=(grant(MENTOR),))
    assert decide(MENTOR, Action.ITEM_READ, grounded, item("behaviour")).allowed is False


def test_a_restricted_item_only_that_item() -> None:
    facts = replace(COVERED, restricted_items=frozenset({"item-1"}))
    assert not decide(MENTOR, Action.ITEM_READ, facts, item("behaviour")).allowed
    assert decide(MENTOR, Action.ITEM_READ, facts, item("behaviour", item_id="item-2")).allowed


def test_break_glass_opens_what_consent_does_not_and_is_flagged() -> None:
    facts = replace(COVERED, break_glass=(grant(MENTOR),))
    decision = decide(MENTOR, Action.ITEM_READ, facts, item("health"))
    assert isinstance(decision, Allow)
    assert decision.break_glass_id == "grant-1" and "break_glass:grant-1" in decision.basis
    # Within the consent scope the consent is the basis, not the exception.
    covered = decide(MENTOR, Action.ITEM_READ, facts, item("behaviour"))
    assert isinstance(covered, Allow) and covered.break_glass_id is None


def test_break_glass_is_personal_and_ends() -> None:
    assert not decide(IB, Action.ITEM_READ, replace(COVERED, break_glass=(grant(MENTOR),)),
                      item("health")).allowed
    ended = replace(COVERED, break_glass=(grant(MENTOR, hours=0),))
    assert not decide(MENTOR, Action.ITEM_READ, ended, item("health")).allowed
    unknown_time = replace(COVERED, break_glass=(grant(MENTOR),), now=None)
    assert not decide(MENTOR, Action.ITEM_READ, unknown_time, item("health")).allowed


def test_break_glass_never_reaches_outsiders() -> None:
    facts = replace(COVERED, break_glass=(grant(OUTSIDER),))
    decision = decide(OUTSIDER, Action.ITEM_READ, facts, item("health"))
    assert isinstance(decision, Deny) and decision.hide


@pytest.mark.parametrize(("reader", "allowed"), [(IB, True), (MENTOR, True), (WORKER, True),
                                                 (NOTULIST, False)])
def test_who_may_use_the_safety_exception(reader: object, allowed: bool) -> None:
    assert decide(reader, Action.BREAK_GLASS, COVERED).allowed is allowed  # type: ignore[arg-type]


def test_the_safety_exception_is_for_consent_cases_that_are_open() -> None:
    assert not decide(IB, Action.BREAK_GLASS,
                      replace(COVERED, legal_basis=LegalBasis.VITAL_INTEREST)).allowed
    assert not decide(IB, Action.BREAK_GLASS, case(anonymous=True)).allowed
    assert not decide(IB, Action.BREAK_GLASS, replace(COVERED, status=CaseStatus.CLOSED)).allowed


def test_an_anonymous_case_needs_no_consent_but_still_participation() -> None:
    facts = case(anonymous=True)
    decision = decide(MENTOR, Action.ITEM_READ, facts, item("health"))
    assert isinstance(decision, Allow) and decision.basis.endswith("anonymous_case")
    assert decide(OUTSIDER, Action.ITEM_READ, facts, item("health")).allowed is False


def test_an_anonymous_case_has_no_consent_to_show_or_record() -> None:
    for action in (Action.CONSENT_VIEW, Action.CONSENT_RECORD):
        decision = decide(IB, action, case(anonymous=True))
        assert isinstance(decision, Deny) and decision.reason == "anonymous_case"
    assert decide(IB, Action.CASE_CONVERT, case(anonymous=True)).allowed
    assert not decide(MENTOR, Action.CASE_CONVERT, case(anonymous=True)).allowed


def test_fail_closed_without_facts_or_categories() -> None:
    assert decide(MENTOR, Action.ITEM_READ, replace(COVERED, consent=None),
                  item("behaviour")) == Deny(reason="consent_facts_missing")
    assert decide(MENTOR, Action.ITEM_READ, COVERED, item()) == \
        Deny(reason="item_without_category")
    unknown = decide(MENTOR, Action.ITEM_READ, COVERED, item("shoe_size"))
    assert isinstance(unknown, Deny) and unknown.reason == "unknown_category"
    with pytest.raises(ValueError, match="item"):
        decide(MENTOR, Action.ITEM_READ, COVERED)
