"""The statutory clock: 4 weeks / one month, one extension, pauses, in Dutch days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.requests.clock import (
    Clock,
    ClockEvent,
    Tick,
    Urgency,
    add_months,
    compute,
    local_day,
    urgency,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_inspection_is_due_in_four_weeks_the_others_in_one_month() -> None:
    assert compute(True, date(2026, 3, 2), []).due_on == date(2026, 3, 30)
    assert compute(False, date(2026, 3, 2), []).due_on == date(2026, 4, 2)


@pytest.mark.parametrize(("received", "due"), [
    (date(2026, 1, 31), date(2026, 2, 28)),
    (date(2028, 1, 31), date(2028, 2, 29)),  # a leap year
    (date(2026, 12, 15), date(2027, 1, 15)),
], ids=["end-of-january", "leap-year", "year-end"])
def test_one_month_ends_on_the_last_day_of_a_shorter_month(received: date, due: date) -> None:
    assert compute(False, received, []).due_on == due


def test_add_months_crosses_years() -> None:
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_one_extension_adds_two_months_a_second_does_not() -> None:
    once = compute(False, date(2026, 1, 10), [ClockEvent(Tick.EXTENDED, at("2026-01-20T10:00"))])
    assert once.due_on == date(2026, 4, 10) and once.extended
    twice = compute(False, date(2026, 1, 10), [
        ClockEvent(Tick.EXTENDED, at("2026-01-20T10:00")),
        ClockEvent(Tick.EXTENDED, at("2026-02-20T10:00"))])
    assert twice.due_on == date(2026, 4, 10)


def test_the_clock_pauses_while_the_identity_check_is_unanswered() -> None:
    asked = ClockEvent(Tick.IDENTITY_ASKED, at("2026-05-04T09:00"))
    paused = compute(True, date(2026, 5, 1), [asked])
    assert paused.due_on is None and paused.paused_since == date(2026, 5, 4)
    assert paused.days_left_at_pause == 25  # 29 May was the due date
    answered = ClockEvent(Tick.IDENTITY_ANSWERED, at("2026-05-14T09:00"))
    resumed = compute(True, date(2026, 5, 1), [answered, asked])  # order does not matter
    assert resumed.due_on == date(2026, 6, 8)  # 29 May + the 10 days it waited
    assert resumed.paused_days == 10


def test_an_answer_without_a_question_does_not_move_the_clock() -> None:
    clock = compute(True, date(2026, 5, 1),
                    [ClockEvent(Tick.IDENTITY_ANSWERED, at("2026-05-14T09:00"))])
    assert clock.due_on == date(2026, 5, 29)


def test_days_are_dutch_days_across_the_change_to_summer_time() -> None:
    # 28 March 2026, 23:30 UTC is already 29 March 00:30 in Amsterdam (CET), and
    # 29 March 2026 22:30 UTC is 30 March 00:30 (CEST, after the change).
    assert local_day(at("2026-03-28T23:30")) == date(2026, 3, 29)
    assert local_day(at("2026-03-29T22:30")) == date(2026, 3, 30)
    clock = compute(True, date(2026, 3, 20), [
        ClockEvent(Tick.IDENTITY_ASKED, at("2026-03-28T23:30")),  # asked on the 29th
        ClockEvent(Tick.IDENTITY_ANSWERED, at("2026-03-29T22:30"))])  # answered the 30th
    assert clock.paused_days == 1
    assert clock.due_on == date(2026, 4, 18)


def test_days_are_dutch_days_across_the_change_to_winter_time() -> None:
    # 25 October 2026 ends summer time: 22:30 UTC on the 24th is 00:30 on the 25th.
    assert local_day(at("2026-10-24T22:30")) == date(2026, 10, 25)
    assert local_day(at("2026-10-25T23:30")) == date(2026, 10, 26)  # CET again
    assert local_day(at("2026-10-25T22:59")) == date(2026, 10, 25)


def test_urgency_on_the_dutch_date() -> None:
    clock = Clock(due_on=date(2026, 6, 30), paused_since=None, paused_days=0, extended=False)
    # 30 June 23:30 in Amsterdam is 21:30 UTC: still on time (the due day itself).
    assert urgency(clock, at("2026-06-30T21:30")) is Urgency.NEARLY_DUE
    assert urgency(clock, at("2026-06-30T22:30")) is Urgency.OVERDUE  # 1 July 00:30
    assert urgency(clock, at("2026-06-01T09:00")) is Urgency.ON_TIME
    assert urgency(clock, at("2026-06-23T09:00")) is Urgency.NEARLY_DUE
    assert urgency(clock, at("2026-08-01T09:00"), closed=True) is Urgency.CLOSED
    paused = Clock(due_on=None, paused_since=date(2026, 6, 1), paused_days=0, extended=False)
    assert urgency(paused, at("2026-08-01T09:00")) is Urgency.PAUSED


def test_a_naive_moment_has_no_dutch_day() -> None:
    with pytest.raises(ValueError, match="naive"):
        local_day(datetime(2026, 1, 1, 12, 0))


moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),
                       timezones=st.just(UTC))
ticks = st.lists(st.builds(ClockEvent, st.sampled_from(list(Tick)), moments), max_size=6)


@given(inspection=st.booleans(), received=st.dates(min_value=date(2026, 1, 1),
                                                   max_value=date(2027, 12, 31)),
       events=ticks)
def test_pauses_and_the_extension_never_shorten_the_answer_period(
        inspection: bool, received: date, events: list[ClockEvent]) -> None:
    clock = compute(inspection, received, events)
    plain = compute(inspection, received, [])
    assert plain.due_on is not None
    if clock.due_on is not None:
        assert clock.due_on >= plain.due_on
        assert clock.due_on <= add_months(plain.due_on, 2) + timedelta(days=clock.paused_days)
    else:
        assert clock.paused_since is not None


@given(received=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
       answered=moments, extra=st.integers(min_value=0, max_value=5))
def test_an_answered_check_adds_exactly_the_days_it_waited(
        received: date, answered: datetime, extra: int) -> None:
    asked = answered - timedelta(days=extra)
    clock = compute(False, received, [ClockEvent(Tick.IDENTITY_ASKED, asked),
                                      ClockEvent(Tick.IDENTITY_ANSWERED, answered)])
    waited = (local_day(answered) - local_day(asked)).days
    assert clock.due_on == add_months(received, 1) + timedelta(days=waited)
