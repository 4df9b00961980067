"""Scoped legal grounds in the engine and the scenario format (issue 12, finding 1).

A ground other than consent is a disclosure basis with a scope: recipients,
categories, from/until, an end. Inside it no consent is needed; outside it the
consent rules apply as usual. Older scenarios (``basis`` without a scope) keep
their meaning.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from portal.consent.engine import (
    Basis,
    ConsentCase,
    ConsentInputError,
    Duty,
    ReasonCode,
    ScopedGround,
    decide,
)
from portal.consent.scenario import ScenarioError, evaluate_json

from ._factory import ON, ORG, TWO_PARENTS, adult, case, consent
from .test_scenario import example

PROTECTOR_ROLE = "role:youth_protector"
VEILIG_THUIS = "org:veilig-thuis"


def ground(basis: str = "meldrecht_veilig_thuis", recipients: tuple[str, ...] = (VEILIG_THUIS,),
           categories: tuple[str, ...] = ("health",), **kw: Any) -> ScopedGround:
    return ScopedGround(Basis(basis), frozenset(recipients), frozenset(categories),
                        kw.pop("valid_from", date(2026, 11, 1)), **kw)


def with_grounds(c: ConsentCase, *grounds: ScopedGround) -> ConsentCase:
    return dataclasses.replace(c, grounds=grounds)


def test_inside_the_scope_no_consent_is_needed() -> None:
    d = decide(with_grounds(case(adults=TWO_PARENTS, recipient=VEILIG_THUIS),
                            ground(id="g-vt")))
    assert (d.allowed, d.reason_code, d.legal_ground) == (
        True, ReasonCode.LEGAL_GROUND, Basis.MELDRECHT_VEILIG_THUIS)
    assert d.grounds_used == ("g-vt",) and d.consents_used == ()
    assert d.duty is Duty.INFORM and list(d.duty_towards) == ["A", "B"]
    assert "within its scope" in d.reason


@pytest.mark.parametrize(("label", "request_", "scope"), [
    ("another recipient", {"recipient": ORG}, {}),
    ("another category", {"category": "family_situation", "recipient": VEILIG_THUIS}, {}),
    ("before it starts", {"recipient": VEILIG_THUIS}, {"valid_from": date(2026, 11, 29)}),
    ("after its last day", {"recipient": VEILIG_THUIS}, {"valid_until": date(2026, 11, 27)}),
    ("from the day it ended", {"recipient": VEILIG_THUIS}, {"ended_on": ON}),
])
def test_outside_the_scope_consent_decides(label: str, request_: dict[str, str],
                                           scope: dict[str, Any]) -> None:
    without = decide(with_grounds(case(adults=TWO_PARENTS, **request_), ground(**scope)))
    assert (without.allowed, without.legal_ground, without.consent_required) == (
        False, None, True), label
    assert without.grounds_used == ()
    category = request_.get("category", "health")
    consents = (consent("A", (category,), (request_["recipient"],)),
                consent("B", (category,), (request_["recipient"],)))
    with_consent = decide(with_grounds(case(adults=TWO_PARENTS, consents=consents, **request_),
                                       ground(**scope)))
    assert (with_consent.allowed, with_consent.reason_code) == (
        True, ReasonCode.CONSENT_COMPLETE), label


def test_the_last_day_and_the_day_before_the_end_are_covered() -> None:
    c = case(adults=TWO_PARENTS, recipient=VEILIG_THUIS)
    assert decide(with_grounds(c, ground(valid_until=ON))).allowed
    assert decide(with_grounds(c, ground(ended_on=date(2026, 11, 29)))).allowed


def test_the_ots_ground_covers_the_youth_protector_only_while_one_is_on_the_case() -> None:
    ots = ground("ots", (PROTECTOR_ROLE,), ("health", "behaviour"))
    protector = (*TWO_PARENTS, adult("E", "youth_protector_ots"))
    assert decide(with_grounds(case(adults=protector, recipient=PROTECTOR_ROLE), ots)).allowed
    # ... not the whole case: the mentor's organisation is decided on consent.
    assert not decide(with_grounds(case(adults=protector), ots)).allowed
    assert not decide(with_grounds(case(adults=TWO_PARENTS, recipient=PROTECTOR_ROLE),
                                   ots)).allowed


def test_an_unscoped_basis_keeps_its_older_meaning() -> None:
    d = decide(case(basis="verwijsindex", adults=TWO_PARENTS))
    assert d.allowed and d.grounds_used == () and d.legal_ground is Basis.VERWIJSINDEX


@pytest.mark.parametrize(("kw", "path"), [
    ({"basis": Basis.CONSENT}, "basis"),
    ({"categories": frozenset()}, "categories"),
    ({"recipients": frozenset()}, "recipients"),
    ({"recipients": frozenset({"everyone"})}, "recipients"),
    ({"valid_until": date(2026, 10, 1)}, "valid_until"),
])
def test_a_bad_scope_is_refused(kw: dict[str, Any], path: str) -> None:
    fields = {"basis": Basis.OTS, "recipients": frozenset({PROTECTOR_ROLE}),
              "categories": frozenset({"health"}), "valid_from": date(2026, 11, 1), **kw}
    with pytest.raises(ConsentInputError) as raised:
        ScopedGround(**fields)
    assert raised.value.path == path


def test_a_ground_naming_an_unknown_category_is_refused() -> None:
    with pytest.raises(ConsentInputError, match=r"^grounds\[0\]\.categories"):
        with_grounds(case(), ground(categories=("attendance",)))


# --- the scenario format ------------------------------------------------------------

SCOPED = {"basis": "meldrecht_veilig_thuis", "recipients": ["org:veilig-thuis"],
          "categories": ["health"], "valid_from": "2026-11-01", "id": "vt-1"}


def scenario(ground_: dict[str, Any], recipient: str) -> dict[str, Any]:
    def edit(d: dict[str, Any]) -> None:
        d["grounds"] = [ground_]
        d["request"]["recipient"] = recipient
    return example(edit)


def test_a_scenario_with_a_scoped_ground() -> None:
    inside = evaluate_json(scenario(SCOPED, "org:veilig-thuis"))
    assert (inside["allowed"], inside["legal_ground"], inside["grounds_used"]) == (
        True, "meldrecht_veilig_thuis", ["vt-1"])
    outside = evaluate_json(scenario(SCOPED, "org:jeugdteam-noord"))
    assert (outside["allowed"], outside["legal_ground"], outside["grounds_used"]) == (
        False, None, [])
    assert outside["missing"] == ["C"]  # as without the ground


def test_an_old_scenario_is_still_valid_and_names_no_ground() -> None:
    result = evaluate_json(example())
    assert result["grounds_used"] == [] and result["allowed"] is False


@pytest.mark.parametrize(("edit", "message"), [
    ({"basis": "consent"}, r"^grounds\[0\]\.basis: consent is not a legal ground"),
    ({"basis": "nope"}, r"^grounds\[0\]\.basis: unknown value"),
    ({"recipients": []}, r"^grounds\[0\]\.recipients: expected a non-empty list"),
    ({"categories": ["attendance"]}, r"^grounds\[0\]\.categories\[0\]: unknown category"),
    ({"valid_from": "2026-02-30"}, r"^grounds\[0\]\.valid_from: impossible date"),
    ({"valid_until": "2026-10-01"}, r"^grounds\[0\]\.valid_until: is before valid_from"),
    ({"scope": "all"}, r"^grounds\[0\]\.scope: unknown key"),
])
def test_a_bad_scoped_ground_names_its_field(edit: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        evaluate_json(scenario({**SCOPED, **edit}, "org:veilig-thuis"))


def test_grounds_must_be_a_list() -> None:
    data = example()
    data["grounds"] = {"basis": "ots"}
    with pytest.raises(ScenarioError, match=r"^grounds: expected a list"):
        evaluate_json(data)
