"""The JSON scenario format of the consent engine: strict parsing, evaluation, a CLI.

``evaluate_json`` takes an already parsed JSON value (see the example in
tests/consent/test_scenario.py), validates it strictly (unknown keys and values,
impossible dates, unknown consenters and missing keys are errors whose message
starts with the field path, e.g. ``adults[1].custody_facts.relationship: ...``),
runs :func:`portal.consent.engine.decide` and returns a JSON-serialisable dict.

``main(argv)`` is the ``portal consent check FILE`` entry point (``argv`` without
the program name; ``-`` reads stdin). It prints one JSON object with sorted keys
and returns 0, or prints the error naming the field on stderr and returns 2.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Sequence
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from portal.consent.engine import (
    DEFAULT_CATEGORIES,
    Adult,
    Basis,
    Child,
    Consent,
    ConsentCase,
    ConsentDecision,
    ConsentInputError,
    CustodyEvidence,
    CustodyFacts,
    OrganisationRule,
    Relation,
    Relationship,
    Request,
    ScopedGround,
    Setting,
    decide,
)
from portal.consent.rules import RECIPIENT_RE

__all__ = ["ScenarioError", "decision_to_dict", "evaluate_json", "main", "parse_case"]

USAGE = "usage: portal consent check FILE.json  (use - for stdin)"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CATEGORY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_E = TypeVar("_E", bound=StrEnum)
_T = TypeVar("_T")


class ScenarioError(ValueError):
    """Invalid scenario; the message starts with the offending field path."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _object(
    value: object, path: str, required: Sequence[str], optional: Sequence[str] = ()
) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ScenarioError(path or "(root)", "expected an object")
    fields: dict[str, object] = {}
    for key, item in value.items():
        if not isinstance(key, str) or key not in (*required, *optional):
            raise ScenarioError(_join(path, str(key)), "unknown key")
        fields[key] = item
    for key in required:
        if key not in fields:
            raise ScenarioError(_join(path, key), "missing required key")
    return fields


def _str(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise ScenarioError(path, "expected a string")
    if not value.strip():
        raise ScenarioError(path, "must not be empty")
    return value


def _bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise ScenarioError(path, "expected true or false")
    return value


def _date(value: object, path: str) -> date:
    text = _str(value, path)
    if not _DATE_RE.match(text):
        raise ScenarioError(path, f"expected a date YYYY-MM-DD, got {text!r}")
    try:
        return date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        raise ScenarioError(path, f"impossible date {text!r}") from None


def _enum(value: object, path: str, kind: type[_E]) -> _E:
    if not isinstance(value, str):
        raise ScenarioError(path, "expected a string")
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ScenarioError(path, f"unknown value {value!r} (expected one of: {allowed})") from None


def _optional(
    fields: dict[str, object], key: str, path: str, parse: Callable[[object, str], _T]
) -> _T | None:
    value = fields.get(key)
    return None if value is None else parse(value, _join(path, key))


def _strings(value: object, path: str, check: Callable[[str, str], None]) -> frozenset[str]:
    if not isinstance(value, list) or not value:
        raise ScenarioError(path, "expected a non-empty list")
    seen: set[str] = set()
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        text = _str(item, item_path)
        if text in seen:
            raise ScenarioError(item_path, f"duplicate value {text!r}")
        check(text, item_path)
        seen.add(text)
    return frozenset(seen)


def _category_checker(categories: frozenset[str]) -> Callable[[str, str], None]:
    def check(text: str, path: str) -> None:
        if text not in categories:
            raise ScenarioError(path, f"unknown category {text!r}")

    return check


def _check_recipient(text: str, path: str) -> None:
    if not RECIPIENT_RE.match(text):
        raise ScenarioError(
            path, f"invalid recipient {text!r} (expected org:|role:|person:|adult:)"
        )


def _check_category_name(text: str, path: str) -> None:
    if not _CATEGORY_RE.match(text):
        raise ScenarioError(path, f"invalid category name {text!r}")


def _facts(value: object, path: str) -> CustodyFacts:
    optional = ("is_mother", "custody_applied", "court_custody")
    f = _object(value, path, ("relationship",), optional)
    applied = _optional(f, "custody_applied", path, _bool)
    return CustodyFacts(
        relationship=_enum(f["relationship"], _join(path, "relationship"), Relationship),
        is_mother=_optional(f, "is_mother", path, _bool),
        custody_applied=bool(applied),
        court_custody=_optional(f, "court_custody", path, _bool),
    )


def _adult(value: object, path: str) -> Adult:
    optional = ("custody", "custody_facts", "custody_evidence")
    f = _object(value, path, ("id", "relation"), optional)
    try:
        return Adult(
            id=_str(f["id"], _join(path, "id")),
            relation=_enum(f["relation"], _join(path, "relation"), Relation),
            custody=_optional(f, "custody", path, _bool),
            custody_facts=_optional(f, "custody_facts", path, _facts),
            custody_evidence=_optional(
                f, "custody_evidence", path, lambda v, p: _enum(v, p, CustodyEvidence)
            ),
        )
    except ConsentInputError as error:
        raise ScenarioError(_join(path, error.path), error.message) from None


def _consent(value: object, path: str, categories: frozenset[str]) -> Consent:
    required = ("by", "categories", "recipients", "valid_from")
    optional = ("valid_until", "withdrawn_on", "id", "purpose")
    f = _object(value, path, required, optional)
    try:
        return Consent(
            by=_str(f["by"], _join(path, "by")),
            categories=_strings(
                f["categories"], _join(path, "categories"), _category_checker(categories)
            ),
            recipients=_strings(f["recipients"], _join(path, "recipients"), _check_recipient),
            valid_from=_date(f["valid_from"], _join(path, "valid_from")),
            valid_until=_optional(f, "valid_until", path, _date),
            withdrawn_on=_optional(f, "withdrawn_on", path, _date),
            id=_optional(f, "id", path, _str),
            purpose=_optional(f, "purpose", path, _str),
        )
    except ConsentInputError as error:
        raise ScenarioError(_join(path, error.path), error.message) from None


def _ground(value: object, path: str, categories: frozenset[str]) -> ScopedGround:
    required = ("basis", "categories", "recipients", "valid_from")
    optional = ("valid_until", "ended_on", "id")
    f = _object(value, path, required, optional)
    try:
        return ScopedGround(
            basis=_enum(f["basis"], _join(path, "basis"), Basis),
            categories=_strings(
                f["categories"], _join(path, "categories"), _category_checker(categories)
            ),
            recipients=_strings(f["recipients"], _join(path, "recipients"), _check_recipient),
            valid_from=_date(f["valid_from"], _join(path, "valid_from")),
            valid_until=_optional(f, "valid_until", path, _date),
            ended_on=_optional(f, "ended_on", path, _date),
            id=_optional(f, "id", path, _str),
        )
    except ConsentInputError as error:
        raise ScenarioError(_join(path, error.path), error.message) from None


def _list(value: object, path: str) -> list[object]:
    if not isinstance(value, list):
        raise ScenarioError(path, "expected a list")
    return list(value)


def parse_case(data: object) -> ConsentCase:
    """Validate a parsed JSON scenario and build the engine's input."""
    required = ("on", "child", "setting", "basis", "adults", "consents", "request")
    optional = ("organisation_rule", "case_purpose", "categories", "grounds")
    top = _object(data, "", required, optional)
    categories = _optional(top, "categories", "", lambda v, p: _strings(v, p, _check_category_name))
    categories = DEFAULT_CATEGORIES if categories is None else categories
    child = _object(top["child"], "child", ("birthdate",))
    request = _object(top["request"], "request", ("category", "recipient"))
    rule = _optional(top, "organisation_rule", "", lambda v, p: _enum(v, p, OrganisationRule))
    try:
        return ConsentCase(
            on=_date(top["on"], "on"),
            child=Child(birthdate=_date(child["birthdate"], "child.birthdate")),
            setting=_enum(top["setting"], "setting", Setting),
            basis=_enum(top["basis"], "basis", Basis),
            adults=tuple(
                _adult(item, f"adults[{i}]")
                for i, item in enumerate(_list(top["adults"], "adults"))
            ),
            consents=tuple(
                _consent(item, f"consents[{i}]", categories)
                for i, item in enumerate(_list(top["consents"], "consents"))
            ),
            request=_request(request, categories),
            organisation_rule=OrganisationRule.EVERY_CUSTODIAN if rule is None else rule,
            case_purpose=_optional(top, "case_purpose", "", _str),
            categories=categories,
            grounds=tuple(
                _ground(item, f"grounds[{i}]", categories)
                for i, item in enumerate(_list(top.get("grounds", []), "grounds"))
            ),
        )
    except ConsentInputError as error:
        raise ScenarioError(error.path, error.message) from None


def _request(fields: dict[str, object], categories: frozenset[str]) -> Request:
    category = _str(fields["category"], "request.category")
    _category_checker(categories)(category, "request.category")
    recipient = _str(fields["recipient"], "request.recipient")
    _check_recipient(recipient, "request.recipient")
    return Request(category=category, recipient=recipient)


def decision_to_dict(decision: ConsentDecision) -> dict[str, object]:
    """The decision as a JSON-serialisable dict (enums as their values, dates ISO)."""
    d = decision
    return {
        "on": d.on.isoformat(),
        "age": d.age,
        "setting": d.setting.value,
        "basis": d.basis.value,
        "consent_required": d.consent_required,
        "required_consenters": list(d.required_consenters),
        "child_consent_required": d.child_consent_required,
        "child_view_recorded": d.child_view_recorded,
        "child_view_given": d.child_view_given,
        "custody": dict(d.custody),
        "information_rights": {k: v.value for k, v in d.information_rights.items()},
        "consenter_status": {k: v.value for k, v in d.consenter_status.items()},
        "missing": list(d.missing),
        "scope_mismatch": list(d.scope_mismatch),
        "complete": d.complete,
        "allowed": d.allowed,
        "reason": d.reason,
        "reason_code": d.reason_code.value,
        "rule_used": d.rule_used,
        "organisation_rule": d.organisation_rule.value,
        "legal_ground": None if d.legal_ground is None else d.legal_ground.value,
        "duty": None if d.duty is None else d.duty.value,
        "duty_text": d.duty_text,
        "duty_towards": list(d.duty_towards),
        "consents_used": list(d.consents_used),
        "grounds_used": list(d.grounds_used),
        "next_consent_change": (
            None if d.next_consent_change is None else d.next_consent_change.isoformat()
        ),
        "custody_evidence": {k: v.value for k, v in d.custody_evidence.items()},
        "notes": list(d.notes),
    }


def evaluate_json(data: object) -> dict[str, object]:
    """Validate a parsed JSON scenario, decide it, and return the decision as a dict."""
    case = parse_case(data)
    try:
        decision = decide(case)
    except ConsentInputError as error:
        raise ScenarioError(error.path, error.message) from None
    return decision_to_dict(decision)


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise ScenarioError(key, "duplicate key")
        result[key] = value
    return result


def _no_constant(name: str) -> object:
    raise ScenarioError("(json)", f"{name} is not valid JSON")


def main(argv: list[str]) -> int:
    """``portal consent check FILE``: print the decision as JSON; 0 on success, 2 on bad input."""
    if argv in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if len(argv) != 1:
        print(USAGE, file=sys.stderr)
        return 2
    source = argv[0]
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"error: cannot read {source}: {error}", file=sys.stderr)
        return 2
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
        result = evaluate_json(data)
    except json.JSONDecodeError as error:
        print(
            f"error: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}",
            file=sys.stderr,
        )
        return 2
    except ScenarioError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, sort_keys=True, indent=2))
    return 0
