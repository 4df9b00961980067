"""The JSON scenario format: the reference example, strict validation, main()."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from portal.consent.scenario import ScenarioError, evaluate_json, main

EXAMPLE: dict[str, Any] = {
    "on": "2026-11-28",
    "child": {"birthdate": "2013-04-02"},
    "setting": "school",
    "basis": "consent",
    "adults": [
        {"id": "A", "relation": "parent", "custody": True},
        {
            "id": "B",
            "relation": "parent",
            "custody_facts": {
                "relationship": "unmarried",
                "is_mother": False,
                "custody_applied": False,
            },
        },
        {"id": "C", "relation": "guardian"},
        {"id": "D", "relation": "foster_parent"},
        {"id": "E", "relation": "youth_protector_ots"},
    ],
    "consents": [
        {
            "by": "A",
            "categories": ["behaviour"],
            "recipients": ["org:jeugdteam-noord"],
            "valid_from": "2026-01-01",
            "valid_until": None,
            "withdrawn_on": None,
        }
    ],
    "request": {"category": "health", "recipient": "org:jeugdteam-noord"},
}

EXPECTED = {
    "age": 13,
    "consent_required": True,
    "required_consenters": ["A", "C"],
    "child_consent_required": False,
    "child_view_recorded": True,
    "custody": {"A": True, "B": False, "C": True, "D": False, "E": False},
    "information_rights": {"B": "general", "D": "none", "E": "information"},
    "missing": ["C"],
    "complete": False,
    "allowed": False,
    "duty": None,
}


def example(edit: Callable[[dict[str, Any]], object] | None = None) -> dict[str, Any]:
    data = copy.deepcopy(EXAMPLE)
    if edit is not None:
        edit(data)
    return data


def test_reference_example() -> None:
    result = evaluate_json(example())
    assert {k: result[k] for k in EXPECTED} == EXPECTED
    assert result["scope_mismatch"] == ["A"]
    assert result["reason_code"] == "consent_missing_and_scope_mismatch"
    reason = str(result["reason"])
    assert "C (no consent)" in reason
    assert "A (category 'health' not included)" in reason
    assert result["rule_used"] == "every_custodian"
    assert result["consents_used"] == []
    assert json.loads(json.dumps(result)) == result


def test_optional_keys() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["organisation_rule"] = "one_custodian"
        d["case_purpose"] = "mdo-2026"
        d["categories"] = ["health", "behaviour", "attendance"]
        d["adults"][0]["custody_evidence"] = "gezagsregister"
        d["consents"][0].update(id="form-1", purpose="mdo-2026", categories=["health"])

    result = evaluate_json(example(edit))
    assert (result["allowed"], result["rule_used"]) == (True, "one_custodian")
    assert result["consents_used"] == ["form-1"]
    assert result["custody_evidence"] == {"A": "gezagsregister"}
    assert result["missing"] == []


def test_custom_category_set_is_enforced() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["categories"] = ["attendance"]
        d["request"]["category"] = "attendance"

    with pytest.raises(ScenarioError, match=r"^consents\[0\]\.categories\[0\]: unknown category"):
        evaluate_json(example(edit))


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    """Set a dotted path like 'adults.1.custody_facts.relationship'."""

    def edit(d: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = d
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return edit


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def edit(d: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = d
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        del target[last]

    return edit


BAD = [
    ("unknown top key", _set("colour", "red"), "colour: unknown key"),
    ("unknown nested key", _set("adults.0.nickname", "x"), "adults[0].nickname: unknown key"),
    (
        "unknown facts key",
        _set("adults.1.custody_facts.engaged", True),
        "adults[1].custody_facts.engaged: unknown key",
    ),
    ("missing request", _delete("request"), "request: missing required key"),
    (
        "missing valid_from",
        _delete("consents.0.valid_from"),
        "consents[0].valid_from: missing required key",
    ),
    ("missing birthdate", _delete("child.birthdate"), "child.birthdate: missing required key"),
    ("missing relation", _delete("adults.2.relation"), "adults[2].relation: missing required key"),
    (
        "unknown relationship",
        _set("adults.1.custody_facts.relationship", "engaged"),
        "adults[1].custody_facts.relationship: unknown value 'engaged'",
    ),
    ("unknown setting", _set("setting", "kindergarten"), "setting: unknown value"),
    ("unknown basis", _set("basis", "gut_feeling"), "basis: unknown value"),
    ("unknown relation", _set("adults.3.relation", "uncle"), "adults[3].relation: unknown value"),
    ("unknown rule", _set("organisation_rule", "nobody"), "organisation_rule: unknown value"),
    (
        "unknown evidence",
        _set("adults.0.custody_evidence", "rumour"),
        "adults[0].custody_evidence: unknown value",
    ),
    ("impossible date", _set("on", "2026-02-30"), "on: impossible date '2026-02-30'"),
    (
        "impossible month",
        _set("consents.0.valid_from", "2026-13-01"),
        "consents[0].valid_from: impossible date",
    ),
    ("not ISO", _set("child.birthdate", "02-04-2013"), "child.birthdate: expected a date"),
    (
        "date not string",
        _set("consents.0.valid_until", 20261231),
        "consents[0].valid_until: expected a string",
    ),
    ("unknown consenter", _set("consents.0.by", "Z"), "consents[0].by: unknown adult 'Z'"),
    (
        "unknown category",
        _set("consents.0.categories", ["behaviour", "gossip"]),
        "consents[0].categories[1]: unknown category 'gossip'",
    ),
    (
        "duplicate category",
        _set("consents.0.categories", ["health", "health"]),
        "consents[0].categories[1]: duplicate value",
    ),
    (
        "empty categories",
        _set("consents.0.categories", []),
        "consents[0].categories: expected a non-empty list",
    ),
    (
        "unknown request category",
        _set("request.category", "gossip"),
        "request.category: unknown category",
    ),
    (
        "invalid recipient",
        _set("consents.0.recipients", ["jeugdteam"]),
        "consents[0].recipients[0]: invalid recipient",
    ),
    (
        "invalid request recipient",
        _set("request.recipient", "org:"),
        "request.recipient: invalid recipient",
    ),
    (
        "unknown adult recipient",
        _set("request.recipient", "adult:Z"),
        "request.recipient: unknown adult",
    ),
    ("custody not a bool", _set("adults.0.custody", "yes"), "adults[0].custody: expected true"),
    ("custody as number", _set("adults.0.custody", 1), "adults[0].custody: expected true"),
    ("duplicate adult id", _set("adults.1.id", "A"), "adults[1].id: duplicate id 'A'"),
    ("reserved id", _set("adults.0.id", "child"), "adults[0].id: 'child' is reserved"),
    ("empty id", _set("adults.0.id", " "), "adults[0].id: must not be empty"),
    (
        "until before from",
        _set("consents.0.valid_until", "2025-12-31"),
        "consents[0].valid_until: is before valid_from",
    ),
    ("request before birth", _set("on", "2013-04-01"), "on: is before the child's birthdate"),
    ("adults not a list", _set("adults", {"A": "parent"}), "adults: expected a list"),
    ("adult not an object", _set("adults.0", "A"), "adults[0]: expected an object"),
    (
        "parent without custody info",
        _delete("adults.0.custody"),
        "adults[0].custody: give 'custody' or 'custody_facts'",
    ),
    (
        "unmarried without is_mother",
        _delete("adults.1.custody_facts.is_mother"),
        "adults[1].custody_facts.is_mother: required",
    ),
    (
        "single without court decision",
        _set("adults.1.custody_facts.relationship", "single"),
        "adults[1].custody_facts.court_custody: required",
    ),
    ("foster parent with custody", _set("adults.3.custody", True), "adults[3].custody:"),
    (
        "facts for a guardian",
        _set("adults.2.custody_facts", {"relationship": "married"}),
        "adults[2].custody_facts: not applicable",
    ),
    ("empty category set", _set("categories", []), "categories: expected a non-empty list"),
    ("bad category name", _set("categories", ["Health!"]), "categories[0]: invalid category"),
    ("empty purpose", _set("case_purpose", ""), "case_purpose: must not be empty"),
]


@pytest.mark.parametrize(("label", "edit", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_field(
    label: str, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        evaluate_json(example(edit))
    assert str(info.value).startswith(message), (label, str(info.value))
    assert isinstance(info.value, ValueError)


def test_duplicate_consent_ids() -> None:
    def edit(d: dict[str, Any]) -> None:
        d["consents"][0]["id"] = "f"
        d["consents"].append({**d["consents"][0]})

    with pytest.raises(ScenarioError, match=r"^consents\[1\]\.id: duplicate id 'f'"):
        evaluate_json(example(edit))


@pytest.mark.parametrize("data", [[], "x", None, 3])
def test_root_must_be_an_object(data: object) -> None:
    with pytest.raises(ScenarioError, match=r"^\(root\): expected an object"):
        evaluate_json(data)


def _run(
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_main_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(example()), encoding="utf-8")
    code, out, err = _run([str(path)], capsys, monkeypatch)
    assert (code, err) == (0, "")
    assert json.loads(out) == evaluate_json(example())


def test_main_stdin_keeps_non_ascii(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = example(_set("adults.2.id", "Zoë"))
    code, out, err = _run(["-"], capsys, monkeypatch, json.dumps(data))
    assert (code, err) == (0, "")
    assert '"Zoë"' in out
    assert json.loads(out)["missing"] == ["Zoë"]


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (json.dumps(example(_set("on", "2026-02-30"))), "on: impossible date"),
        (
            json.dumps(example(_set("adults.1.custody_facts.relationship", "engaged"))),
            "adults[1].custody_facts.relationship: unknown value 'engaged'",
        ),
        ("{not json", "invalid JSON"),
        ('{"on": "2026-11-28", "on": "2026-11-29"}', "on: duplicate key"),
        ('{"on": NaN}', "NaN is not valid JSON"),
        ("", "invalid JSON"),
    ],
)
def test_main_bad_stdin_exits_2(
    stdin: str, message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = _run(["-"], capsys, monkeypatch, stdin)
    assert (code, out) == (2, "")
    assert message in err


@pytest.mark.parametrize("argv", [[], ["a.json", "b.json"]])
def test_main_usage(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = _run(argv, capsys, monkeypatch)
    assert (code, out) == (2, "")
    assert "usage" in err


def test_main_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _run([str(tmp_path / "nope.json")], capsys, monkeypatch)
    assert code == 2
    assert "cannot read" in err
