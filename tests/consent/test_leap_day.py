"""A child born on 29 February turns 12 and 16 on 1 March in a non-leap year.

Twelve and sixteen years after a leap year is a leap year again, except across
a century that is not one: 2100. Through the JSON scenarios (the CLI's and the
portal's engine), the required consenters change on 1 March 2100, not on
28 February.
"""

from __future__ import annotations

from typing import Any

import pytest

from portal.consent.scenario import evaluate_json


def scenario(born: str, on: str) -> dict[str, Any]:
    return {"on": on, "child": {"birthdate": born}, "setting": "youth_care",
            "basis": "consent", "adults": [{"id": "A", "relation": "parent", "custody": True}],
            "consents": [], "request": {"category": "behaviour", "recipient": "org:x"}}


@pytest.mark.parametrize(("born", "on", "age", "required", "child"), [
    ("2088-02-29", "2100-02-28", 11, ["A"], False),  # not yet 12: the parent alone
    ("2088-02-29", "2100-03-01", 12, ["A"], True),  # 12: in youth care the child too
    ("2084-02-29", "2100-02-28", 15, ["A"], True),
    ("2084-02-29", "2100-03-01", 16, [], True),  # 16: the young person alone
    ("2012-02-29", "2024-02-28", 11, ["A"], False),  # in a leap year: the day itself
    ("2012-02-29", "2024-02-29", 12, ["A"], True),
])
def test_born_on_29_february(born: str, on: str, age: int, required: list[str],
                             child: bool) -> None:
    result = evaluate_json(scenario(born, on))
    assert result["age"] == age
    assert result["child_consent_required"] is child
    assert [c for c in result["required_consenters"] if c != "child"] == required  # type: ignore[attr-defined]
