"""Search by meeting date: a Dutch day finds the searcher's cases with a meeting on it,
through the same policy per case and the same record per search; a wrong date is said
in words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from portal.audit.models import AccessRecord
from portal.demo import DEMO_CASE, stable_id
from portal.localtime import LOCAL_TIME
from portal.meetings.models import Meeting, MeetingStatus
from portal.search.dates import NotADate, typed_day
from tests.harness import Running
from tests.search.test_case_search import assert_one_sealed_search, login, search

CASE_ID = stable_id("case", DEMO_CASE.key)
MEETING_ID = stable_id("meeting", DEMO_CASE.key)
HIT = f'href="/cases/{CASE_ID}"'



def meet_at(running: Running, local: datetime) -> None:
    """Move the demo meeting to ``local`` (Dutch time)."""
    starts_at = local.replace(tzinfo=LOCAL_TIME).astimezone(UTC)
    with running.portal.sessions.begin() as db:
        db.execute(update(Meeting).where(Meeting.id == MEETING_ID).values(starts_at=starts_at))


@pytest.mark.parametrize(("text", "day"), [
    ("05-03-2026", (2026, 3, 5)), ("5-3-2026", (2026, 3, 5)), ("2026-03-05", (2026, 3, 5)),
    (" 05/03/2026 ", (2026, 3, 5)), ("31.12.2026", (2026, 12, 31))])
def test_a_typed_day(text: str, day: tuple[int, int, int]) -> None:
    found = typed_day(text)
    assert found is not None and (found.year, found.month, found.day) == day


@pytest.mark.parametrize("text", ["31-02-2026", "2026-13-01", "5-3-26", "1-2-3-4",
                                  "00-01-2026"])
def test_a_date_that_names_no_day(text: str) -> None:
    with pytest.raises(NotADate):
        typed_day(text)


@pytest.mark.parametrize("text", ["Mulder", "groep 7", "2026", "Sam 05-03-2026"])
def test_words_are_not_a_date(text: str) -> None:
    assert typed_day(text) is None


def test_a_meeting_day_finds_its_case_for_a_participant_only(running: Running) -> None:
    # 00:30 Dutch time is 23:30 the day before in UTC: the bounds are the Dutch day's.
    meet_at(running, datetime(2026, 3, 5, 0, 30))
    ib = login(running, "ib")
    assert HIT in search(ib, "05-03-2026")
    assert HIT in search(ib, "5-3-2026") and HIT in search(ib, "2026-03-05")
    assert HIT not in search(ib, "04-03-2026"), "the UTC date is not the Dutch day"
    assert "Geen casus die u mag zien heeft een overleg op 04-03-2026." in search(
        ib, "04-03-2026")
    meet_at(running, datetime(2026, 7, 5, 23, 59))  # summer time: UTC+2
    assert HIT in search(ib, "05-07-2026") and HIT not in search(ib, "06-07-2026")
    for outsider in ("buitenstaander", "schoolleider"):
        assert HIT not in search(login(running, outsider), "05-07-2026"), outsider
    with running.portal.sessions.begin() as db:
        db.execute(update(Meeting).where(Meeting.id == MEETING_ID)
                   .values(status=MeetingStatus.CANCELLED))
    assert HIT not in search(ib, "05-07-2026"), "a cancelled meeting is no meeting that day"


def test_a_date_search_is_recorded_and_each_hit_decided(running_sqlite: Running) -> None:
    meet_at(running_sqlite, datetime(2026, 3, 5, 14, 30))
    search(login(running_sqlite, "ib"), "05-03-2026")
    assert_one_sealed_search(running_sqlite, "05-03-2026")


def test_a_wrong_date_is_said_in_words(running_sqlite: Running) -> None:
    ib = login(running_sqlite, "ib")
    refused = ib.get("/search", params={"q": "31-02-2026"})
    assert refused.status_code == 400
    body = refused.text
    assert "<title>Fout: " in body
    assert "Dit is geen datum: schrijf een dag als dd-mm-jjjj" in body
    assert 'aria-invalid="true"' in body and 'id="q-error"' in body
    assert 'value="31-02-2026"' in body, "what was typed is kept"
    assert 'id="results-heading"' not in body
    with running_sqlite.portal.sessions() as db:
        assert db.scalars(select(AccessRecord.outcome).where(
            AccessRecord.event_type == "case.search")).all() == ["allowed"]
