"""Integrity alarms live in the process (``portal.audit.health``); a test that tampers
with a running portal's log leaves one when the portal seals at shutdown. Each test
starts and ends without any."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal.audit import health


@pytest.fixture(autouse=True)
def no_alarms_left_over() -> Iterator[None]:
    health.reset()
    yield
    health.reset()  # autouse: torn down after the portals the test started
