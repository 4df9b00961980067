"""Search by meeting date: a typed day, and the searcher's cases with a meeting on it.

A meeting's start is a plain UTC column (a date is not secret); the typed day is
a Dutch day, so it is compared on that day's UTC bounds. Like the word search,
this only finds candidates: the caller decides each case by the policy.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.cases.models import Case, CaseParticipant
from portal.errors import N_
from portal.localtime import local_day_bounds
from portal.meetings.models import Meeting, MeetingStatus

# Digits with separators and nothing else: meant as a date, so a wrong one is an error.
LOOKS_LIKE_DATE = re.compile(r"\d+(?:[-/.]\d+)+")
DAY_MONTH_YEAR = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
YEAR_MONTH_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
NOT_A_DATE = N_("This is not a date: write a day as dd-mm-yyyy, for example 05-03-2026.")


class NotADate(ValueError):
    """The text was meant as a date but names no day; ``message`` says so (a message id)."""

    message = NOT_A_DATE


def typed_day(text: str) -> date | None:
    """The day in ``text`` (d-m-yyyy, dd-mm-yyyy or yyyy-mm-dd); None when ``text`` is
    not meant as a date. Raises NotADate when it is, but names no day."""
    text = text.strip()
    if not LOOKS_LIKE_DATE.fullmatch(text):
        return None
    if found := DAY_MONTH_YEAR.fullmatch(text):
        day, month, year = (int(part) for part in found.groups())
    elif found := YEAR_MONTH_DAY.fullmatch(text):
        year, month, day = (int(part) for part in found.groups())
    else:
        raise NotADate(text)
    try:
        return date(year, month, day)
    except ValueError:
        raise NotADate(text) from None


def cases_meeting_on(db: Session, day: date, participant: str, limit: int) -> list[str]:
    """The (not erased) cases of ``participant`` with a meeting, not cancelled, on ``day``."""
    start, end = local_day_bounds(day)
    return list(db.scalars(
        select(Meeting.case_id).join(Case, Case.id == Meeting.case_id)
        .join(CaseParticipant, CaseParticipant.case_id == Meeting.case_id)
        .where(CaseParticipant.person_id == participant, Case.erased_at.is_(None),
               Meeting.status != MeetingStatus.CANCELLED,
               Meeting.starts_at >= start, Meeting.starts_at < end)
        .group_by(Meeting.case_id).order_by(Meeting.case_id).limit(limit)))
