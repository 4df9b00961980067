"""The start page: every persona lands on a page of their own after login, never a 403."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.demo import DEMO_CASE, stable_id
from tests.harness import Running
from tests.meetings.test_meetings import schedule
from tests.minutes.helpers import MINUTES, logged_in, save, section

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
