"""The portal serves Dutch schools: times are shown and entered in Dutch time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TIME = ZoneInfo("Europe/Amsterdam")


def local_time(value: datetime, pattern: str = "%d-%m-%Y %H:%M") -> str:
    return value.astimezone(LOCAL_TIME).strftime(pattern)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which ``day`` begins and the next day begins, in Dutch time
    (23 or 25 hours apart on the days the clocks change)."""
    start = datetime.combine(day, time(), tzinfo=LOCAL_TIME)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=LOCAL_TIME)
    return start.astimezone(UTC), end.astimezone(UTC)
