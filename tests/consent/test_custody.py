"""Custody from facts, explicit overrides, and information rights without custody."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from portal.consent.engine import (
    Adult,
    ConsentInputError,
    CustodyEvidence,
    InformationRight,
    Relation,
    decide,
    resolve_custody,
)

from ._factory import BORN, adult, case, consent, facts, parent

UNDER_12 = date(2018, 5, 5)

# (label, adult, custody, information right when without custody)
CUSTODY = [
    ("married", parent("P", None, custody_facts=facts("married")), True, None),
    (
        "registered partnership",
        parent("P", None, custody_facts=facts("registered_partnership")),
        True,
        None,
    ),
    (
        "unmarried mother",
        parent("P", None, custody_facts=facts("unmarried", is_mother=True)),
        True,
        None,
    ),
    (
        "unmarried father, recognition only",
        parent("P", None, custody_facts=facts("unmarried", is_mother=False)),
        False,
        "general",
    ),
    (
        "unmarried father, custody applied",
        parent("P", None, custody_facts=facts("unmarried", is_mother=False, custody_applied=True)),
        True,
        None,
    ),
    (
        "unmarried mother, court took custody",
        parent("P", None, custody_facts=facts("unmarried", is_mother=True, court_custody=False)),
        False,
        "general",
    ),
    ("divorced", parent("P", None, custody_facts=facts("divorced")), True, None),
    (
        "divorced, court decided otherwise",
        parent("P", None, custody_facts=facts("divorced", court_custody=False)),
        False,
        "general",
    ),
    (
        "divorced, court kept custody",
        parent("P", None, custody_facts=facts("divorced", court_custody=True)),
        True,
        None,
    ),
    (
        "single, registered with custody",
        parent("P", None, custody_facts=facts("single", court_custody=True)),
        True,
        None,
    ),
    (
        "single, registered without custody",
        parent("P", None, custody_facts=facts("single", court_custody=False)),
        False,
        "general",
    ),
    ("single, explicit custody", parent("P", True, custody_facts=facts("single")), True, None),
    (
        "explicit false overrides married",
        parent("P", False, custody_facts=facts("married")),
        False,
        "general",
    ),
    (
        "explicit true overrides unmarried father",
        parent("P", True, custody_facts=facts("unmarried", is_mother=False)),
        True,
        None,
    ),
    ("explicit true", parent("P", True), True, None),
    ("explicit false", parent("P", False), False, "general"),
    ("guardian (voogd)", adult("P", "guardian"), True, None),
    ("guardian, explicit true", adult("P", "guardian", custody=True), True, None),
    ("foster parent", adult("P", "foster_parent"), False, "none"),
    ("youth protector under OTS", adult("P", "youth_protector_ots"), False, "information"),
]


@pytest.mark.parametrize(("label", "who", "custody", "right"), CUSTODY, ids=[c[0] for c in CUSTODY])
def test_custody_and_information_rights(
    label: str, who: Adult, custody: bool, right: str | None
) -> None:
    assert resolve_custody(who) is custody, label
    d = decide(case(adults=(who,)))
    assert d.custody == {"P": custody}
    assert d.information_rights == ({} if right is None else {"P": InformationRight(right)})
    assert list(d.required_consenters) == (["P"] if custody else [])


def test_guardian_is_a_required_consenter_like_a_parent() -> None:
    guardian = adult("G", "guardian")
    d = decide(case(adults=(guardian,), consents=(consent("G"),)))
    assert (d.allowed, list(d.required_consenters)) == (True, ["G"])


def test_ots_custody_stays_with_parents() -> None:
    protector = adult("E", "youth_protector_ots")
    d = decide(case(adults=(parent("A"), protector), consents=(consent("E"),)))
    assert list(d.required_consenters) == ["A"]
    assert (d.allowed, list(d.missing)) == (False, ["A"])


@pytest.mark.parametrize(
    ("rule", "setting", "born", "by", "right"),
    [
        ("every_custodian", "school", UNDER_12, ("A", "B"), "consented"),
        ("every_custodian", "school", UNDER_12, ("A",), "none"),
        ("one_custodian", "school", UNDER_12, ("A",), "consented"),
        ("one_custodian", "youth_care", UNDER_12, ("A",), "none"),
        ("every_custodian", "youth_care", BORN, ("A", "B"), "none"),
        ("every_custodian", "youth_care", BORN, ("A", "B", "child"), "consented"),
        ("every_custodian", "school", date(2010, 1, 1), ("A", "B"), "none"),
        ("every_custodian", "school", date(2010, 1, 1), ("child",), "consented"),
    ],
)
def test_foster_parent_information_needs_consent(
    rule: str, setting: str, born: date, by: tuple[str, ...], right: str
) -> None:
    adults = (parent("A"), parent("B"), adult("D", "foster_parent"))
    consents = tuple(consent(x, categories=("other",), recipients=("adult:D",)) for x in by)
    d = decide(case(born=born, setting=setting, adults=adults, consents=consents, rule=rule))
    assert d.information_rights == {"D": InformationRight(right)}


def test_foster_consent_must_be_currently_valid() -> None:
    adults = (parent("A"), adult("D", "foster_parent"))
    expired = consent("A", recipients=("adult:D",), valid_until=date(2026, 1, 31))
    d = decide(case(adults=adults, consents=(expired,)))
    assert d.information_rights == {"D": InformationRight.NONE}


def test_custody_evidence_is_echoed_not_decisive() -> None:
    a = parent("A", True, custody_evidence=CustodyEvidence.PARENT_STATEMENT)
    b = parent("B", False, custody_evidence=CustodyEvidence.GEZAGSREGISTER)
    d = decide(case(adults=(a, b)))
    assert d.custody == {"A": True, "B": False}
    assert {k: v.value for k, v in d.custody_evidence.items()} == {
        "A": "parent_statement",
        "B": "gezagsregister",
    }


@pytest.mark.parametrize(
    ("kw", "path"),
    [
        ({"id": "P", "relation": Relation.PARENT}, "custody"),
        (
            {"id": "P", "relation": Relation.PARENT, "custody_facts": facts("unmarried")},
            "custody_facts.is_mother",
        ),
        (
            {"id": "P", "relation": Relation.PARENT, "custody_facts": facts("single")},
            "custody_facts.court_custody",
        ),
        ({"id": "P", "relation": Relation.FOSTER_PARENT, "custody": True}, "custody"),
        ({"id": "P", "relation": Relation.YOUTH_PROTECTOR_OTS, "custody": True}, "custody"),
        ({"id": "P", "relation": Relation.GUARDIAN, "custody": False}, "custody"),
        (
            {"id": "P", "relation": Relation.GUARDIAN, "custody_facts": facts("married")},
            "custody_facts",
        ),
        ({"id": "child", "relation": Relation.GUARDIAN}, "id"),
        ({"id": "", "relation": Relation.GUARDIAN}, "id"),
    ],
)
def test_inconsistent_adults_are_rejected(kw: dict[str, Any], path: str) -> None:
    with pytest.raises(ConsentInputError) as info:
        Adult(**kw)
    assert info.value.path == path
