"""The operations settings: read from the environment, bad values refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.settings import SettingsError
from portal.settings_env import load_settings


def test_defaults_leave_metrics_off() -> None:
    settings = load_settings({})
    assert (settings.metrics_port, settings.metrics_token) == (0, "")
    assert settings.metrics_address == "127.0.0.1"
    assert settings.jobs_interval_seconds == 30


def test_values_are_read(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("t" * 40 + "\n")
    settings = load_settings({"PORTAL_METRICS_PORT": "9101", "PORTAL_METRICS_ADDRESS": "10.0.0.5",
                              "PORTAL_METRICS_TOKEN_FILE": str(token),
                              "PORTAL_JOBS_INTERVAL_SECONDS": "5"})
    assert (settings.metrics_port, settings.metrics_address) == (9101, "10.0.0.5")
    assert settings.metrics_token == "t" * 40
    assert settings.jobs_interval_seconds == 5


@pytest.mark.parametrize(("name", "value", "message"), [
    ("PORTAL_METRICS_PORT", "70000", "PORTAL_METRICS_PORT must be a port number"),
    ("PORTAL_METRICS_PORT", "-1", "PORTAL_METRICS_PORT must be a port number"),
    ("PORTAL_METRICS_PORT", "abc", "PORTAL_METRICS_PORT must be a whole number"),
    ("PORTAL_JOBS_INTERVAL_SECONDS", "0", "PORTAL_JOBS_INTERVAL_SECONDS must be positive"),
    ("PORTAL_METRICS_TOKEN", "short", "PORTAL_METRICS_TOKEN_FILE must hold at least 32"),
])
def test_bad_values_are_refused_by_name(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({name: value})


def test_an_unreadable_token_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PORTAL_METRICS_TOKEN_FILE: cannot read"):
        load_settings({"PORTAL_METRICS_TOKEN_FILE": str(tmp_path / "missing")})
