"""The pure retention rules: Dutch calendar months, and the longest confirmed period deciding."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.people.models import OrganisationKind
from portal.retention.models import CountedFrom
from portal.retention.rules import (
    DEFAULTS,
    JEUGDWET_MONTHS,
    NOTICE,
    Period,
    add_months,
    expiry,
)

CLOSED = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("at", "months", "expected"), [
    # Just after midnight on 1 October in summer time (22:30 UTC on 30 September)
    # plus one month: just after midnight on 1 November in winter time.
    (datetime(2026, 9, 30, 22, 30, tzinfo=UTC), 1, datetime(2026, 10, 31, 23, 30, tzinfo=UTC)),
    # And back into summer time: 1 March 00:30 CET + 1 month = 1 April 00:30 CEST.
    (datetime(2026, 2, 28, 23, 30, tzinfo=UTC), 1, datetime(2026, 3, 31, 22, 30, tzinfo=UTC)),
    # The 31st becomes the month's last day (a leap year too).
    (CLOSED, 1, datetime(2026, 2, 28, 12, 0, tzinfo=UTC)),
    (datetime(2027, 3, 31, 10, 0, tzinfo=UTC), 11, datetime(2028, 2, 29, 11, 0, tzinfo=UTC)),
    (CLOSED, 240, datetime(2046, 1, 31, 12, 0, tzinfo=UTC)),
    (CLOSED, -24, datetime(2024, 1, 31, 12, 0, tzinfo=UTC)),
], ids=["summer-to-winter", "winter-to-summer", "month-end", "leap-day", "20-years",
        "backwards"])
def test_months_are_counted_on_the_dutch_calendar(at: datetime, months: int,
                                                  expected: datetime) -> None:
    assert add_months(at, months) == expected


def test_an_unconfirmed_organisation_or_a_missing_event_means_never() -> None:
    events = {CountedFrom.CASE_CLOSED: CLOSED, CountedFrom.LAST_ENTRY: CLOSED,
              CountedFrom.PUPIL_LEFT: None}
    school = Period(24, CountedFrom.CASE_CLOSED)
    assert expiry({}, events) is None
    assert expiry({"school": school, "care": None}, events) is None
    assert expiry({"school": Period(24, CountedFrom.PUPIL_LEFT)}, events) is None
    assert expiry({"school": school}, {**events, CountedFrom.CASE_CLOSED: None}) is None


def test_the_longest_period_decides() -> None:
    events = {CountedFrom.CASE_CLOSED: CLOSED,
              CountedFrom.LAST_ENTRY: datetime(2025, 6, 1, tzinfo=UTC)}
    found = expiry({"school": Period(24, CountedFrom.CASE_CLOSED),
                    "care": Period(JEUGDWET_MONTHS, CountedFrom.LAST_ENTRY)}, events)
    assert found is not None
    assert (found.organisation_id, found.at) == ("care", datetime(2045, 6, 1, tzinfo=UTC))


def test_every_kind_of_organisation_has_a_default_and_youth_care_the_jeugdwet() -> None:
    assert set(DEFAULTS) == set(OrganisationKind)
    assert DEFAULTS[OrganisationKind.YOUTH_CARE] == Period(240, CountedFrom.LAST_ENTRY)


def test_nothing_expires_sooner_than_30_days_after_the_confirmation() -> None:
    events = {CountedFrom.CASE_CLOSED: CLOSED}
    school = {"school": Period(24, CountedFrom.CASE_CLOSED)}
    confirmed = datetime(2030, 5, 1, tzinfo=UTC)  # long after the period ran out
    found = expiry(school, events, confirmed)
    assert found is not None and found.at == confirmed + NOTICE
    found = expiry(school, events, datetime(2026, 1, 1, tzinfo=UTC))
    assert found is not None and found.at == datetime(2028, 1, 31, 12, 0, tzinfo=UTC)
