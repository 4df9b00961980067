"""The 72-hour clock runs in real hours; it is entered and shown in Dutch time, also
across the change from summer to winter time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.breaches.models import Breach
from portal.breaches.service import deadline_of, due_soon, overdue, parse_local
from portal.localtime import local_time


def breach(discovered_at: datetime) -> Breach:
    return Breach(organisation_id="x", reported_at=discovered_at, discovered_at=discovered_at)


def test_72_hours_across_the_end_of_summer_time() -> None:
    # Friday 23 October 2026 10:00 summer time (UTC+2); the clocks go back on the 25th.
    found = parse_local("2026-10-23", "10:00")
    assert found == datetime(2026, 10, 23, 8, 0, tzinfo=UTC)
    b = breach(found)
    assert deadline_of(b) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    assert local_time(deadline_of(b)) == "26-10-2026 09:00"  # winter time: an hour earlier


def test_72_hours_across_the_start_of_summer_time() -> None:
    found = parse_local("2026-03-27", "10:00")  # UTC+1; summer time from the 29th
    assert found is not None
    assert local_time(deadline_of(breach(found))) == "30-03-2026 11:00"


@pytest.mark.parametrize(("day", "clock"), [("", "10:00"), ("2026-13-01", "10:00"),
                                           ("2026-10-23", "25:00"),
                                           ("2026-10-23", "10:00+02:00")])
def test_unreadable_times_are_refused(day: str, clock: str) -> None:
    assert parse_local(day, clock) is None


def test_due_soon_then_overdue_until_both_decisions_are_taken() -> None:
    found = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    b = breach(found)
    assert not due_soon(b, found) and not overdue(b, found)
    assert due_soon(b, found + timedelta(hours=49))
    assert overdue(b, found + timedelta(hours=72, seconds=1))
    b.ap_decision = "notify"
    assert overdue(b, found + timedelta(hours=73))  # the families' decision still waits
    b.family_decision = "no_inform"
    assert not overdue(b, found + timedelta(hours=73))
