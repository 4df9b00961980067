"""The case's legal basis is the engine's ``Basis``, less the safety exception."""

from __future__ import annotations

from portal.cases.models import NOT_A_CASE_GROUND, LegalBasis
from portal.consent.rules import LEGAL_GROUNDS, Basis


def test_a_cases_grounds_are_the_engines_less_the_safety_exception() -> None:
    assert {(b.name, b.value) for b in LegalBasis} == {
        (b.name, b.value) for b in Basis if b not in NOT_A_CASE_GROUND}
    assert {Basis.SAFETY_EXCEPTION} == NOT_A_CASE_GROUND


def test_each_case_ground_reads_as_the_engines() -> None:
    for ground in LegalBasis:
        assert ground.basis.value == ground.value
        assert ground.basis is Basis.CONSENT or ground.basis in LEGAL_GROUNDS
