"""The portal serves Dutch schools: times are shown and entered in Dutch time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

LOCAL_TIME = ZoneInfo("Europe/Amsterdam")


def local_time(value: datetime, pattern: str = "%d-%m-%Y %H:%M") -> str:
    return value.astimezone(LOCAL_TIME).strftime(pattern)
