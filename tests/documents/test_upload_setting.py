"""PORTAL_MAX_UPLOAD_MB: the upload limit, read once into the settings."""

from __future__ import annotations

import pytest

from portal.settings import SettingsError
from portal.settings_env import load_settings


def test_default_and_configured_limit() -> None:
    assert load_settings({}).max_upload_bytes == 25 * 1024 * 1024
    assert load_settings({"PORTAL_MAX_UPLOAD_MB": "40"}).max_upload_mb == 40


@pytest.mark.parametrize("raw", ["0", "-1", "5000", "25MB", "1.5"])
def test_bad_limits_are_refused(raw: str) -> None:
    with pytest.raises(SettingsError, match="PORTAL_MAX_UPLOAD_MB"):
        load_settings({"PORTAL_MAX_UPLOAD_MB": raw})
