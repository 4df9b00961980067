"""The statutory clock of a data subject's request: pure functions, Dutch calendar days.

The clock runs from the day the request was *received* (a letter registered
late keeps its receipt date). Inspection is answered within 4 weeks (the
leaflet); every other right within one month (GDPR art. 12(3)), extendable
once by two months. It pauses only while an identity check the FG asked for
is unanswered and resumes by itself when it is answered: the days in between
are added to the due date. Every moment is turned into a day in Dutch time
first, so a step taken just after midnight in Amsterdam (still the day before
in UTC), or across a daylight-saving change, counts on the right day.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from portal.consent.access import local_date

INSPECTION_PERIOD = timedelta(weeks=4)
ANSWER_MONTHS = 1
EXTENSION_MONTHS = 2
# A request this many days (or fewer) before its due date is "nearly due".
NEARLY_DUE_DAYS = 7


class Urgency(enum.StrEnum):
    ON_TIME = "on_time"
    NEARLY_DUE = "nearly_due"
    OVERDUE = "overdue"
    PAUSED = "paused"  # waiting for the requester's identity check
    CLOSED = "closed"  # decided: the clock has stopped


class Tick(enum.StrEnum):
    """The events that move the clock (the other events of a request do not)."""

    IDENTITY_ASKED = "identity_asked"
    IDENTITY_ANSWERED = "identity_answered"
    EXTENDED = "extended"


@dataclass(frozen=True)
class ClockEvent:
    kind: str
    at: datetime  # timezone-aware


@dataclass(frozen=True)
class Clock:
    due_on: date | None  # None while paused: the date is not known yet
    paused_since: date | None
    paused_days: int  # days of completed pauses, added to the due date
    extended: bool
    days_left_at_pause: int | None = None  # while paused: what is left when it resumes


def local_day(moment: datetime) -> date:
    """The calendar day in the Netherlands at ``moment``."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes have no day in Dutch time")
    return local_date(moment)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; the last day of the month where it has none
    (31 January + 1 month = 28 or 29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def base_due(inspection: bool, received_on: date) -> date:
    if inspection:
        return received_on + INSPECTION_PERIOD
    return add_months(received_on, ANSWER_MONTHS)


def compute(inspection: bool, received_on: date, events: Iterable[ClockEvent]) -> Clock:
    """The due date after every pause and the one extension among ``events``."""
    due = base_due(inspection, received_on)
    extended = False
    asked: date | None = None
    paused_days = 0
    for event in sorted(events, key=lambda e: e.at):
        if event.kind == Tick.IDENTITY_ASKED and asked is None:
            asked = local_day(event.at)
        elif event.kind == Tick.IDENTITY_ANSWERED and asked is not None:
            paused_days += max(0, (local_day(event.at) - asked).days)
            asked = None
        elif event.kind == Tick.EXTENDED and not extended:
            extended = True  # once: a second extension has no effect on the clock
    if extended:
        due = add_months(due, EXTENSION_MONTHS)
    due += timedelta(days=paused_days)
    if asked is not None:
        return Clock(due_on=None, paused_since=asked, paused_days=paused_days,
                     extended=extended, days_left_at_pause=(due - asked).days)
    return Clock(due_on=due, paused_since=None, paused_days=paused_days, extended=extended)


def urgency(clock: Clock, now: datetime, closed: bool = False) -> Urgency:
    """How the request stands on today's Dutch date."""
    if closed:
        return Urgency.CLOSED
    if clock.due_on is None:
        return Urgency.PAUSED
    today = local_day(now)
    if today > clock.due_on:
        return Urgency.OVERDUE
    if (clock.due_on - today).days <= NEARLY_DUE_DAYS:
        return Urgency.NEARLY_DUE
    return Urgency.ON_TIME
