"""`portal consent check` is the same engine, reachable from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLE = {
    "on": "2026-11-28", "child": {"birthdate": "2013-04-02"}, "setting": "school",
    "basis": "consent",
    "adults": [{"id": "A", "relation": "parent", "custody": True},
               {"id": "C", "relation": "guardian"}],
    "consents": [{"by": "A", "categories": ["behaviour"], "recipients": ["org:x"],
                  "valid_from": "2026-01-01", "valid_until": None, "withdrawn_on": None}],
    "request": {"category": "behaviour", "recipient": "org:x"},
}


def portal_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "portal.cli", *args], input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def test_check_from_a_file_and_stdin(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(EXAMPLE))
    from_file = portal_cli("consent", "check", str(scenario))
    from_stdin = portal_cli("consent", "check", "-", stdin=json.dumps(EXAMPLE))
    assert from_file.returncode == 0 and from_stdin.returncode == 0, from_file.stderr
    result = json.loads(from_file.stdout)
    assert result == json.loads(from_stdin.stdout)
    assert result["required_consenters"] == ["A", "C"] and result["missing"] == ["C"]
    assert result["allowed"] is False


def test_bad_input_exits_2_naming_the_field() -> None:
    bad = {**EXAMPLE, "setting": "kindergarten"}
    result = portal_cli("consent", "check", "-", stdin=json.dumps(bad))
    assert result.returncode == 2
    assert "setting" in result.stderr
