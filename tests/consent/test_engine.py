"""Table-driven tests of the consent engine: age bands, consent validity, rules."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from portal.consent.engine import (
    ConsenterStatus,
    ConsentInputError,
    ReasonCode,
    age_on,
    birthday_in_year,
    consent_warning,
    decide,
    next_consent_change,
)

from ._factory import BORN, ON, TWO_PARENTS, case, consent, parent

DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2013, 4, 2), date(2026, 11, 28), 13),
        (date(2013, 4, 2), date(2026, 4, 1), 12),
        (date(2013, 4, 2), date(2026, 4, 2), 13),
        (BORN, date(2026, 11, 27), 11),
        (BORN, date(2026, 11, 28), 12),
        (BORN, date(2030, 11, 27), 15),
        (BORN, date(2030, 11, 28), 16),
        (BORN, BORN, 0),
        (date(2013, 12, 31), date(2026, 1, 1), 12),
        # 29 February: in a non-leap year the birthday is 1 March.
        (date(2012, 2, 29), date(2024, 2, 28), 11),
        (date(2012, 2, 29), date(2024, 2, 29), 12),  # 12th birthday in a leap year
        (date(2012, 2, 29), date(2025, 2, 28), 12),
        (date(2012, 2, 29), date(2025, 3, 1), 13),
        (date(2088, 2, 29), date(2100, 2, 28), 11),  # 2100 is not a leap year
        (date(2088, 2, 29), date(2100, 3, 1), 12),
        (date(2084, 2, 29), date(2100, 2, 28), 15),
        (date(2084, 2, 29), date(2100, 3, 1), 16),
    ],
)
def test_age_on(born: date, on: date, age: int) -> None:
    assert age_on(born, on) == age


def test_birthday_in_year_feb_29() -> None:
    assert birthday_in_year(date(2012, 2, 29), 2025) == date(2025, 3, 1)
    assert birthday_in_year(date(2012, 2, 29), 2028) == date(2028, 2, 29)
    assert birthday_in_year(date(2012, 2, 28), 2025) == date(2025, 2, 28)


def test_request_before_birth_is_rejected() -> None:
    with pytest.raises(ConsentInputError, match=r"^on:"):
        age_on(BORN, BORN - DAY)


# (on, setting) -> (age, required_consenters, child_consent_required, child_view_recorded, rule)
BANDS = [
    (date(2026, 11, 27), "school", 11, ["A", "B"], False, False, "every_custodian"),
    (date(2026, 11, 28), "school", 12, ["A", "B"], False, True, "every_custodian"),
    (date(2030, 11, 27), "school", 15, ["A", "B"], False, True, "every_custodian"),
    (date(2030, 11, 28), "school", 16, ["child"], True, True, "young_person"),
    (date(2026, 11, 27), "youth_care", 11, ["A", "B"], False, False, "every_custodian"),
    (date(2026, 11, 28), "youth_care", 12, ["A", "B", "child"], True, True, "every_custodian"),
    (date(2030, 11, 27), "youth_care", 15, ["A", "B", "child"], True, True, "every_custodian"),
    (date(2030, 11, 28), "youth_care", 16, ["child"], True, True, "young_person"),
]


@pytest.mark.parametrize(("on", "setting", "age", "required", "child", "view", "rule"), BANDS)
def test_age_bands_and_boundaries(
    on: date, setting: str, age: int, required: list[str], child: bool, view: bool, rule: str
) -> None:
    d = decide(case(on=on, born=BORN, setting=setting, adults=TWO_PARENTS))
    assert d.age == age
    assert list(d.required_consenters) == required
    assert d.child_consent_required is child
    assert d.child_view_recorded is view
    assert d.rule_used == rule
    assert d.consent_required is True
    assert list(d.missing) == required
    assert (d.complete, d.allowed) == (False, False)


@pytest.mark.parametrize(
    ("born", "on", "setting", "required"),
    [
        (date(2088, 2, 29), date(2100, 2, 28), "youth_care", ["A", "B"]),
        (date(2088, 2, 29), date(2100, 3, 1), "youth_care", ["A", "B", "child"]),
        (date(2084, 2, 29), date(2100, 2, 28), "school", ["A", "B"]),
        (date(2084, 2, 29), date(2100, 3, 1), "school", ["child"]),
        (date(2012, 2, 29), date(2024, 2, 28), "youth_care", ["A", "B"]),
        (date(2012, 2, 29), date(2024, 2, 29), "youth_care", ["A", "B", "child"]),
    ],
)
def test_feb_29_birthdays(born: date, on: date, setting: str, required: list[str]) -> None:
    d = decide(case(on=on, born=born, setting=setting, adults=TWO_PARENTS))
    assert list(d.required_consenters) == required


PARENT_CONSENTS = (consent("A"), consent("B"))


@pytest.mark.parametrize(
    ("on", "setting", "consents", "allowed", "missing"),
    [
        # youth care: parents' consent suffices until the 12th birthday, not on it
        (date(2026, 11, 27), "youth_care", PARENT_CONSENTS, True, []),
        (date(2026, 11, 28), "youth_care", PARENT_CONSENTS, False, ["child"]),
        (date(2026, 11, 28), "youth_care", (*PARENT_CONSENTS, consent("child")), True, []),
        # school: the 12th birthday changes nothing for the required set
        (date(2026, 11, 28), "school", PARENT_CONSENTS, True, []),
        # from 16 the parents' consent no longer counts
        (date(2030, 11, 27), "school", PARENT_CONSENTS, True, []),
        (date(2030, 11, 28), "school", PARENT_CONSENTS, False, ["child"]),
        (date(2030, 11, 27), "youth_care", (*PARENT_CONSENTS, consent("child")), True, []),
        (date(2030, 11, 28), "youth_care", PARENT_CONSENTS, False, ["child"]),
        (date(2030, 11, 28), "youth_care", (consent("child"),), True, []),
    ],
)
def test_consents_stop_sufficing_on_birthdays(
    on: date, setting: str, consents: tuple[Any, ...], allowed: bool, missing: list[str]
) -> None:
    d = decide(case(on=on, born=BORN, setting=setting, adults=TWO_PARENTS, consents=consents))
    assert d.allowed is allowed
    assert d.complete is allowed
    assert list(d.missing) == missing


def test_sixteen_plus_young_person_alone() -> None:
    d = decide(case(on=ON, born=date(2010, 1, 1), adults=TWO_PARENTS, consents=(consent("child"),)))
    assert (d.allowed, d.rule_used, list(d.required_consenters)) == (
        True,
        "young_person",
        ["child"],
    )
    assert d.custody == {"A": True, "B": True}
    assert d.consenter_status == {"child": ConsenterStatus.OK}


def test_school_12_to_16_child_view_is_not_a_veto() -> None:
    only_child = decide(case(born=BORN, adults=TWO_PARENTS, consents=(consent("child"),)))
    assert (only_child.allowed, only_child.child_view_given) == (False, True)
    assert list(only_child.missing) == ["A", "B"]
    parents_only = decide(case(born=BORN, adults=TWO_PARENTS, consents=PARENT_CONSENTS))
    assert (parents_only.allowed, parents_only.child_view_given) == (True, False)
    assert parents_only.child_view_recorded is True
    assert any("not a veto" in n for n in parents_only.notes)


def test_under_12_child_consent_does_not_count() -> None:
    d = decide(case(born=date(2018, 1, 1), adults=TWO_PARENTS, consents=(consent("child"),)))
    assert (d.allowed, d.child_view_recorded, d.child_view_given) == (False, False, False)
    assert "child" not in d.consenter_status


# Consent validity for a single custodian A; the request is 'health' to ORG on ON.
YESTERDAY, TOMORROW = ON - DAY, ON + DAY
VALIDITY = [
    ("covers", {}, True, ConsenterStatus.OK),
    ("category", {"categories": ("behaviour",)}, False, ConsenterStatus.CATEGORY_MISMATCH),
    (
        "recipient",
        {"recipients": ("role:youth_care_worker",)},
        False,
        ConsenterStatus.RECIPIENT_MISMATCH,
    ),
    ("expired yesterday", {"valid_until": YESTERDAY}, False, ConsenterStatus.EXPIRED),
    ("valid until today", {"valid_until": ON}, True, ConsenterStatus.OK),
    ("not yet valid", {"valid_from": TOMORROW}, False, ConsenterStatus.NOT_YET_VALID),
    ("valid from today", {"valid_from": ON}, True, ConsenterStatus.OK),
    ("withdrawn yesterday", {"withdrawn_on": YESTERDAY}, False, ConsenterStatus.WITHDRAWN),
    ("withdrawn today", {"withdrawn_on": ON}, False, ConsenterStatus.WITHDRAWN),
    ("withdrawn tomorrow", {"withdrawn_on": TOMORROW}, True, ConsenterStatus.OK),
    ("other purpose", {"purpose": "other"}, False, ConsenterStatus.PURPOSE_MISMATCH),
    ("same purpose", {"purpose": "mdo-2026"}, True, ConsenterStatus.OK),
]


@pytest.mark.parametrize(
    ("label", "kw", "allowed", "status"), VALIDITY, ids=[v[0] for v in VALIDITY]
)
def test_consent_validity(label: str, kw: dict[str, Any], allowed: bool, status: str) -> None:
    c = consent("A", id="c1", **kw)
    d = decide(case(adults=(parent("A"),), consents=(c,), case_purpose="mdo-2026"))
    assert d.allowed is allowed, label
    assert d.consenter_status == {"A": status}
    assert list(d.consents_used) == (["c1"] if allowed else [])
    scope = status in (ConsenterStatus.CATEGORY_MISMATCH, ConsenterStatus.RECIPIENT_MISMATCH)
    assert list(d.scope_mismatch) == (["A"] if scope else [])
    assert list(d.missing) == ([] if allowed or scope else ["A"])


@pytest.mark.parametrize(
    ("consent_purpose", "case_purpose", "allowed"),
    [(None, "mdo-2026", True), ("mdo-2026", None, True), (None, None, True), ("a", "b", False)],
)
def test_purpose_only_compared_when_both_given(
    consent_purpose: str | None, case_purpose: str | None, allowed: bool
) -> None:
    c = consent("A", purpose=consent_purpose)
    d = decide(case(adults=(parent("A"),), consents=(c,), case_purpose=case_purpose))
    assert d.allowed is allowed


def test_withdrawal_is_not_retroactive() -> None:
    c = consent("A", withdrawn_on=date(2026, 6, 1))
    before = decide(case(on=date(2026, 5, 31), adults=(parent("A"),), consents=(c,)))
    after = decide(case(on=date(2026, 6, 1), adults=(parent("A"),), consents=(c,)))
    assert (before.allowed, after.allowed) == (True, False)


def test_best_status_over_several_consents() -> None:
    withdrawn = consent("A", withdrawn_on=YESTERDAY)
    narrow = consent("A", categories=("behaviour",))
    d = decide(case(adults=(parent("A"),), consents=(withdrawn, narrow)))
    assert d.consenter_status == {"A": ConsenterStatus.CATEGORY_MISMATCH}
    d = decide(case(adults=(parent("A"),), consents=(withdrawn, consent("A"))))
    assert (d.allowed, d.consents_used) == (True, ("consents[1]",))


def test_reason_names_missing_and_scope() -> None:
    consents = (consent("A", categories=("behaviour",)),)
    d = decide(case(adults=TWO_PARENTS, consents=consents))
    assert d.reason_code is ReasonCode.CONSENT_MISSING_AND_SCOPE_MISMATCH
    assert (list(d.missing), list(d.scope_mismatch)) == (["B"], ["A"])
    assert "B (no consent)" in d.reason
    assert "A (category 'health' not included)" in d.reason
    assert decide(case(adults=TWO_PARENTS)).reason_code is ReasonCode.CONSENT_MISSING
    narrow = tuple(consent(x, recipients=("org:other",)) for x in "AB")
    d = decide(case(adults=TWO_PARENTS, consents=narrow))
    assert d.reason_code is ReasonCode.CONSENT_SCOPE_MISMATCH
    assert "recipient 'org:jeugdteam-noord' not included" in d.reason


# organisation rule -> (setting, born, consents) -> (allowed, rule_used, missing)
ONE_RULE = [
    ("every_custodian", "school", date(2018, 1, 1), ("A",), False, "every_custodian", ["B"]),
    ("one_custodian", "school", date(2018, 1, 1), ("A",), True, "one_custodian", []),
    ("one_custodian", "school", BORN, ("A",), True, "one_custodian", []),
    ("one_custodian", "school", date(2018, 1, 1), (), False, "one_custodian", ["A", "B"]),
    ("one_custodian", "youth_care", date(2018, 1, 1), ("A",), False, "every_custodian", ["B"]),
    ("one_custodian", "youth_care", BORN, ("A", "child"), False, "every_custodian", ["B"]),
    ("one_custodian", "school", date(2010, 1, 1), ("A",), False, "young_person", ["child"]),
]


@pytest.mark.parametrize(("rule", "setting", "born", "by", "allowed", "used", "missing"), ONE_RULE)
def test_organisation_rule(
    rule: str,
    setting: str,
    born: date,
    by: tuple[str, ...],
    allowed: bool,
    used: str,
    missing: list[str],
) -> None:
    consents = tuple(consent(x) for x in by)
    d = decide(case(setting=setting, born=born, adults=TWO_PARENTS, consents=consents, rule=rule))
    assert (d.allowed, d.rule_used, list(d.missing)) == (allowed, used, missing)
    assert d.organisation_rule.value == rule
    ignored = any("one_custodian" in note for note in d.notes)
    assert ignored is (rule == "one_custodian" and setting == "youth_care")


@pytest.mark.parametrize(
    ("born", "setting", "consents"),
    [
        (date(2018, 1, 1), "school", ()),
        (date(2018, 1, 1), "school", (consent("child"),)),
        (BORN, "youth_care", (consent("child"),)),
    ],
)
def test_no_custodian_under_16(born: date, setting: str, consents: tuple[Any, ...]) -> None:
    foster = parent("D", custody=False)
    d = decide(case(born=born, setting=setting, adults=(foster,), consents=consents))
    assert (d.complete, d.allowed, d.reason_code) == (False, False, ReasonCode.NO_CUSTODIAN)
    assert "no adult with custody" in d.reason.lower()


def test_no_custodian_irrelevant_from_16() -> None:
    d = decide(case(born=date(2010, 1, 1), consents=(consent("child"),)))
    assert (d.allowed, d.reason_code) == (True, ReasonCode.CONSENT_COMPLETE)


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2026, 11, 27), date(2026, 11, 28)),
        (date(2026, 11, 28), date(2030, 11, 28)),
        (date(2030, 11, 27), date(2030, 11, 28)),
        (date(2030, 11, 28), None),
        (BORN, date(2026, 11, 28)),
    ],
)
def test_next_consent_change(on: date, expected: date | None) -> None:
    assert next_consent_change(BORN, on) == expected
    assert decide(case(on=on, born=BORN)).next_consent_change == expected


def test_next_consent_change_feb_29() -> None:
    assert next_consent_change(date(2088, 2, 29), date(2099, 12, 31)) == date(2100, 3, 1)
    assert next_consent_change(date(2012, 2, 29), date(2020, 1, 1)) == date(2024, 2, 29)


@pytest.mark.parametrize(
    ("on", "days", "expected"),
    [
        (date(2026, 10, 29), 30, date(2026, 11, 28)),
        (date(2026, 10, 28), 30, None),
        (date(2026, 11, 27), 0, None),
        (date(2026, 11, 27), 1, date(2026, 11, 28)),
        (date(2026, 11, 28), 30, None),
        (date(2030, 11, 1), 30, date(2030, 11, 28)),
        (date(2031, 1, 1), 3650, None),
    ],
)
def test_consent_warning(on: date, days: int, expected: date | None) -> None:
    assert consent_warning(BORN, on, days) == expected


def test_consent_warning_rejects_negative_days() -> None:
    with pytest.raises(ValueError, match="warning_days"):
        consent_warning(BORN, ON, -1)
