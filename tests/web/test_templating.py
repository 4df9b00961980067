"""The Jinja environment: templates are checked on disk only when reloading is asked for."""

from __future__ import annotations

import os

import pytest

from portal.settings_env import load_settings
from portal.web.templating import make_environment


@pytest.mark.parametrize(("reload", "checks_disk"), [(False, False), (True, True)])
def test_a_loaded_template_is_checked_on_disk_only_when_reloading(
        monkeypatch: pytest.MonkeyPatch, reload: bool, checks_disk: bool) -> None:
    env = make_environment(reload=reload)
    first = env.get_template("cases/show.html")
    looked: list[str] = []
    real_getmtime = os.path.getmtime

    def getmtime(path: str) -> float:
        looked.append(path)
        return real_getmtime(path)

    monkeypatch.setattr(os.path, "getmtime", getmtime)
    assert env.get_template("cases/show.html") is first
    assert bool(looked) is checks_disk


def test_templates_reload_by_default_in_dev_mode_only() -> None:
    assert load_settings({}).template_reload
    assert not load_settings({"PORTAL_TEMPLATE_RELOAD": "0"}).template_reload
    assert not load_settings({"PORTAL_MODE": "production"}).template_reload
    assert load_settings({"PORTAL_MODE": "production",
                          "PORTAL_TEMPLATE_RELOAD": "1"}).template_reload
