"""The retention rules, pure: defaults per kind of organisation, and when a case expires.

A case is shared: the organisation that holds it and every organisation taking
part each keep it under their own confirmed policy. The case expires when the
LONGEST of those periods has run out, and never while any of them has not
confirmed a policy (``None``): a youth-care provider's 20 years under the
Jeugdwet are not cut short because a school's two years ran out.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from portal.localtime import LOCAL_TIME
from portal.people.models import OrganisationKind
from portal.retention.models import CountedFrom

# Jeugdwet art. 7.3.8: a youth-care provider keeps its file twenty years from
# when it was made (here: from the last entry in the case).
JEUGDWET_MONTHS = 20 * 12
# The leaflet sets no period for schools; two years after the case closed is
# the common school-board default (docs/retention.md), for the board to confirm.
SCHOOL_MONTHS = 2 * 12
MAX_MONTHS = 100 * 12
# Nothing is deleted sooner than this after a period was confirmed (or changed):
# whatever a new period makes expire is in the FG's 30-day preview first.
NOTICE = timedelta(days=30)


@dataclass(frozen=True)
class Period:
    months: int
    counted_from: CountedFrom


DEFAULTS: Mapping[OrganisationKind, Period] = {
    OrganisationKind.YOUTH_CARE: Period(JEUGDWET_MONTHS, CountedFrom.LAST_ENTRY),
    OrganisationKind.SCHOOL: Period(SCHOOL_MONTHS, CountedFrom.CASE_CLOSED),
    OrganisationKind.SAMENWERKINGSVERBAND: Period(SCHOOL_MONTHS, CountedFrom.CASE_CLOSED),
    OrganisationKind.MUNICIPALITY: Period(SCHOOL_MONTHS, CountedFrom.CASE_CLOSED),
    OrganisationKind.PORTAL: Period(SCHOOL_MONTHS, CountedFrom.CASE_CLOSED),
}


def add_months(at: datetime, months: int) -> datetime:
    """``at`` plus whole calendar months on the Dutch calendar, in UTC.

    Counted in Dutch time, so a case closed just after midnight on 1 October
    (summer time) expires just after midnight on 1 November (winter time), not
    an hour earlier on the day before; the 31st becomes the month's last day."""
    local = at.astimezone(LOCAL_TIME)
    month0 = local.month - 1 + months
    year, month = local.year + month0 // 12, month0 % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(UTC)


@dataclass(frozen=True)
class Expiry:
    """When a case's retention runs out, and the organisation whose period decides it."""

    at: datetime
    organisation_id: str
    period: Period
    event_at: datetime


def expiry(periods: Mapping[str, Period | None],
           events: Mapping[CountedFrom, datetime | None],
           confirmed_at: datetime | None = None) -> Expiry | None:
    """The case's expiry under every organisation's period; None while any is unknown.

    ``periods``: each organisation of the case to its confirmed period (None:
    not confirmed). ``events``: when each counting event happened (None: not
    yet, e.g. the case is still open). ``confirmed_at``: the latest of those
    periods' confirmations; the expiry is never less than ``NOTICE`` after it."""
    if not periods:
        return None
    latest: Expiry | None = None
    for organisation_id, period in sorted(periods.items()):
        if period is None:
            return None
        event_at = events.get(period.counted_from)
        if event_at is None:
            return None
        at = add_months(event_at, period.months)
        if latest is None or at > latest.at:
            latest = Expiry(at, organisation_id, period, event_at)
    if latest is not None and confirmed_at is not None and latest.at < confirmed_at + NOTICE:
        latest = replace(latest, at=confirmed_at + NOTICE)
    return latest
