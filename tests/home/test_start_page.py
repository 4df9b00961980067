"""The start page: every persona lands on a page of their own after login, never a 403."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.consent.models import Restriction
from portal.db import unit_of_work
from portal.demo import DEMO_CASE, stable_id
from portal.localtime import LOCAL_TIME
from portal.minutes.models import MinutesCorrection
from portal.notifications.birthdays import notify_birthdays
from tests.harness import Running
from tests.meetings.test_meetings import schedule
from tests.minutes.helpers import (
    MINUTES,
    keys_by_heading,
    logged_in,
    save,
    section,
    submit_and_approve,
)

CASE_ID = stable_id("case", DEMO_CASE.key)


@pytest.mark.parametrize(("persona", "heading"), [
    ("fg", "Inzagelog"), ("beheerder", "Beheer"), ("ib", "Mijn casussen"),
    ("mentor", "Mijn actiepunten"), ("notulist", "Mijn casussen")])
def test_every_professional_lands_on_a_start_page(running_sqlite: Running, persona: str,
                                                  heading: str) -> None:
    client = running_sqlite.client()
    landed = client.login(persona)
    assert landed.status_code == 200, (persona, landed.status_code)
    assert landed.url.path == "/"
    assert "Wat vraagt vandaag uw aandacht" in landed.text
    assert heading in landed.text


def test_administrator_sees_counts_and_no_case_work(running: Running) -> None:
    admin = running.client()
    page = admin.login("beheerder")
    assert "organisaties" in page.text and "accounts" in page.text
    assert 'href="/admin"' in page.text
    assert "Mijn casussen" not in page.text
    assert 'href="/audit"' not in page.text


def test_fg_is_offered_the_access_log_not_cases(running: Running) -> None:
    fg = running.client()
    page = fg.login("fg")
    assert 'href="/audit"' in page.text
    assert 'href="/dpo/break-glass"' in page.text
    assert "Mijn casussen" not in page.text


def test_chair_sees_this_weeks_meeting_and_every_listed_case_is_recorded(
        running: Running) -> None:
    meeting_id = schedule(running)
    chair = running.client()
    chair.login("ib")
    with running.portal.sessions() as db:
        before = len(db.scalars(select(AccessRecord.id).where(
            AccessRecord.event_type == "case.list")).all())
    page = chair.page("/")
    assert page.status_code == 200
    assert "Overleggen deze week" in page.text
    assert f'href="/meetings/{meeting_id}"' in page.text
    with running.portal.sessions() as db:
        listed = db.scalars(select(AccessRecord.case_id).where(
            AccessRecord.event_type == "case.list")).all()
    # The case title on the start page was decided and recorded like the case list.
    assert len(listed) > before and CASE_ID in listed


def test_a_meeting_outside_the_week_is_not_listed(running_sqlite: Running) -> None:
    meeting_id = schedule(running_sqlite)
    running_sqlite.clock.advance(days=8)
    chair = running_sqlite.client()
    page = chair.login("ib")
    assert f'href="/meetings/{meeting_id}"' not in page.text


def test_outsider_sees_no_case_of_others(running_sqlite: Running) -> None:
    outsider = running_sqlite.client()
    page = outsider.login("buitenstaander")
    assert page.status_code == 200
    assert CASE_ID not in page.text


def test_a_citizen_still_goes_to_the_family_page(running_sqlite: Running) -> None:
    parent = running_sqlite.client()
    page = parent.login("ouder1")
    assert page.url.path == "/family"


def test_submitted_minutes_wait_on_the_chairs_start_page_until_approved(
        running_sqlite: Running) -> None:
    writer = logged_in(running_sqlite, "notulist")
    save(writer, section("Schoolvoortgang", "Leest op niveau E5."))
    chair = logged_in(running_sqlite, "ib")
    assert "Verslagen om goed te keuren" not in chair.page("/").text  # a draft waits on nobody
    assert writer.submit(f"{MINUTES}/submit").status_code == 200
    waiting = chair.page("/")
    assert "Verslagen om goed te keuren" in waiting.text
    assert f'href="{MINUTES}"' in waiting.text
    # Only the chair approves: the minute-taker is not asked.
    assert "Verslagen om goed te keuren" not in writer.page("/").text
    assert chair.submit(f"{MINUTES}/approve", {"version": "1"}).status_code == 200
    assert "Verslagen om goed te keuren" not in chair.page("/").text


def test_the_minute_taker_is_asked_for_minutes_once_the_meeting_was_held(
        running_sqlite: Running) -> None:
    writer = logged_in(running_sqlite, "notulist")
    assert "Verslagen om te schrijven" not in writer.page("/").text  # not held yet
    running_sqlite.clock.advance(days=8)
    writer = logged_in(running_sqlite, "notulist")
    waiting = writer.page("/")
    assert "Verslagen om te schrijven" in waiting.text and f'href="{MINUTES}"' in waiting.text
    # The chair does not take these minutes: nobody else is asked to write them.
    assert "Verslagen om te schrijven" not in logged_in(running_sqlite, "ib").page("/").text
    save(writer, section("Schoolvoortgang", "Leest op niveau E5."))
    assert "Verslagen om te schrijven" in writer.page("/").text  # a draft is not handed in
    assert writer.submit(f"{MINUTES}/submit").status_code == 200
    assert "Verslagen om te schrijven" not in writer.page("/").text


def test_a_proposed_correction_waits_on_the_chairs_start_page_until_decided(
        running: Running) -> None:
    writer = logged_in(running, "notulist")
    save(writer, section("Aanwezigheid", "Sam was drie keer te laat."))
    [key] = keys_by_heading(running, 1, ["fact"]).values()
    submit_and_approve(running, writer, 1)
    chair = logged_in(running, "ib")
    assert "Correcties om over te beslissen" not in chair.page("/").text
    mentor = logged_in(running, "mentor")
    mentor.page(MINUTES)
    assert mentor.submit(f"{MINUTES}/corrections", {
        "section": key, "text": "Sam was twee keer te laat.",
        "reason": "Telfout"}).status_code == 200
    waiting = chair.page("/")
    assert "Correcties om over te beslissen" in waiting.text
    assert f'href="{MINUTES}#corrections"' in waiting.text
    assert "Correcties om over te beslissen" not in mentor.page("/").text  # only the chair decides
    with running.portal.sessions() as db:
        [correction] = db.scalars(select(MinutesCorrection.id))
    chair.page(MINUTES)
    assert chair.submit(f"{MINUTES}/corrections/{correction}/accept").status_code == 200
    assert "Correcties om over te beslissen" not in chair.page("/").text


def _missing_on(page: str) -> list[str]:
    return re.findall(r"toestemming ontbreekt nog van (\d+) perso", page, re.IGNORECASE)


def test_missing_consent_is_counted_for_the_chair_as_on_the_case_page(
        running_sqlite: Running) -> None:
    chair = logged_in(running_sqlite, "ib")
    start = chair.page("/").text
    case_page = chair.page(f"/cases/{CASE_ID}").text
    # The demo case still waits for a consent: the start page says so, with the same
    # count as the case's own overview, and leads to its consent page.
    assert _missing_on(case_page), "the demo case should still miss a consent"
    [line] = [li for li in start.split("<li>") if f'href="/cases/{CASE_ID}/consent"' in li]
    assert _missing_on(line) == _missing_on(case_page)
    # A participant who does not chair the case is not asked to collect consent.
    assert not _missing_on(logged_in(running_sqlite, "mentor").page("/").text)


def test_a_birthday_that_changes_consent_is_on_the_chairs_start_page(
        running_sqlite: Running) -> None:
    sessions, vault = running_sqlite.portal.sessions, running_sqlite.portal.vault
    sixteenth = datetime(2029, 4, 2, 9, tzinfo=LOCAL_TIME)  # Sam's 16th birthday
    running_sqlite.clock.now = sixteenth - timedelta(days=20)
    chair = logged_in(running_sqlite, "ib")
    assert "Verjaardagen die de toestemming veranderen" not in chair.page("/").text
    with unit_of_work(sessions) as db:
        assert notify_birthdays(db, vault, running_sqlite.clock.now) == 1
    page = chair.page("/").text
    assert "Verjaardagen die de toestemming veranderen" in page
    assert f'href="/cases/{CASE_ID}/consent"' in page
    # Under a restriction of the whole case nobody processes it: the notice is not shown.
    with running_sqlite.portal.sessions() as db:
        restriction = Restriction(case_id=CASE_ID, placed_by=stable_id("person", "fg"),
                                  placed_at=running_sqlite.clock())
        db.add(restriction)
        db.commit()
        restriction_id = restriction.id
    assert "Verjaardagen die de toestemming veranderen" not in chair.page("/").text
    with running_sqlite.portal.sessions() as db:
        lifted = db.get(Restriction, restriction_id)
        assert lifted is not None
        lifted.lifted_by, lifted.lifted_at = stable_id("person", "fg"), running_sqlite.clock()
        db.commit()
    assert "Verjaardagen die de toestemming veranderen" in chair.page("/").text
    running_sqlite.clock.now = sixteenth + timedelta(days=11)  # the notice is a month old
    assert "Verjaardagen die de toestemming veranderen" not in \
        logged_in(running_sqlite, "ib").page("/").text
