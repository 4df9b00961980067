"""Legal grounds without consent: allowed, with the duty that remains."""

from __future__ import annotations

from datetime import date

import pytest

from portal.consent.engine import Basis, Duty, ReasonCode, decide

from ._factory import BORN, TWO_PARENTS, adult, case, consent, parent

PROTECTOR = adult("E", "youth_protector_ots")
ADULTS = (*TWO_PARENTS, PROTECTOR)

# (basis, setting) -> duty
GROUNDS = [
    ("meldrecht_veilig_thuis", "school", Duty.INFORM),
    ("meldrecht_veilig_thuis", "youth_care", Duty.TRY_TO_OBTAIN_CONSENT),
    ("verwijsindex", "school", Duty.INFORM),
    ("verwijsindex", "youth_care", Duty.TRY_TO_OBTAIN_CONSENT),
    ("raad_kinderbescherming", "school", Duty.INFORM),
    ("raad_kinderbescherming", "youth_care", Duty.TRY_TO_OBTAIN_CONSENT),
    ("tlv_or_extra_support", "school", Duty.INFORM),
    ("tlv_or_extra_support", "youth_care", Duty.INFORM),
    ("ots", "school", Duty.INFORM),
    ("ots", "youth_care", Duty.TRY_TO_OBTAIN_CONSENT),
    ("legal_obligation", "school", None),
    ("legal_obligation", "youth_care", None),
    ("safety_exception", "school", Duty.DOCUMENT_AND_NOTIFY_DPO),
    ("safety_exception", "youth_care", Duty.DOCUMENT_AND_NOTIFY_DPO),
    ("vital_interest", "school", Duty.DOCUMENT_AND_NOTIFY_DPO),
    ("vital_interest", "youth_care", Duty.DOCUMENT_AND_NOTIFY_DPO),
]


@pytest.mark.parametrize(("basis", "setting", "duty"), GROUNDS)
def test_legal_ground_allows_without_consent(basis: str, setting: str, duty: Duty | None) -> None:
    d = decide(case(basis=basis, setting=setting, adults=ADULTS))
    assert (d.allowed, d.complete, d.consent_required) == (True, True, False)
    assert d.reason_code is ReasonCode.LEGAL_GROUND
    assert d.rule_used == f"legal_ground:{basis}"
    assert d.legal_ground is Basis(basis)
    assert d.duty is duty
    assert (d.duty_text is None) is (duty is None)
    assert basis in d.reason
    assert (d.required_consenters, d.missing, d.scope_mismatch) == ((), (), ())
    assert d.child_consent_required is False
    informs = duty in (Duty.INFORM, Duty.TRY_TO_OBTAIN_CONSENT)
    assert list(d.duty_towards) == (["A", "B"] if informs else [])
    # custody and information rights are still reported
    assert d.custody == {"A": True, "B": True, "E": False}
    assert d.information_rights["E"].value == "information"


def test_duty_towards_follows_the_consenters() -> None:
    youth = decide(case(basis="verwijsindex", setting="youth_care", born=BORN, adults=ADULTS))
    assert list(youth.duty_towards) == ["A", "B", "child"]
    adult_child = decide(case(basis="verwijsindex", born=date(2010, 1, 1), adults=ADULTS))
    assert list(adult_child.duty_towards) == ["child"]


def test_legal_ground_needs_no_custodian_or_scope() -> None:
    d = decide(case(basis="safety_exception", category="family_situation", recipient="org:x"))
    assert d.allowed is True


def test_ots_ground_needs_a_youth_protector_on_the_case() -> None:
    d = decide(case(basis="ots", adults=TWO_PARENTS))
    assert (d.allowed, d.consent_required, d.legal_ground) == (False, True, None)
    assert d.rule_used == "every_custodian"
    assert any("does not apply" in note for note in d.notes)
    assert d.reason.startswith("Basis 'ots' does not apply")
    ok = decide(case(basis="ots", adults=TWO_PARENTS, consents=(consent("A"), consent("B"))))
    assert (ok.allowed, ok.reason_code) == (True, ReasonCode.CONSENT_COMPLETE)


def test_consent_basis_has_no_duty() -> None:
    d = decide(case(adults=(parent("A"),), consents=(consent("A"),)))
    assert (d.allowed, d.duty, d.duty_text, d.legal_ground) == (True, None, None, None)
