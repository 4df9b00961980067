"""In Chromium: before an agenda's categories change the chair sees who would no longer
see it; cancelling changes nothing, confirming changes it (issue 12), by keyboard."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from playwright.sync_api import expect

from e2e.pages import log_in
from portal.demo import DEMO_CASE, stable_id
from portal.meetings.binding import seal_meeting
from portal.meetings.models import Meeting, MeetingStatus
from tests.harness import Running

if TYPE_CHECKING:
    from e2e.conftest import Browse

SAM_CASE = stable_id("case", DEMO_CASE.key)
AGENDA = "Gedrag in de klas bespreken"


def _meeting(portal: Running) -> str:
    """A meeting whose agenda the chair reads (behaviour, within the demo consent)."""
    vault = portal.portal.vault
    now = portal.clock.now
    with portal.portal.sessions() as db, db.begin():
        meeting = Meeting(case_id=SAM_CASE, starts_at=now + timedelta(days=3),
                          duration_minutes=60, place_ct=b"", agenda_ct=b"",
                          agenda_categories=["behaviour"], status=MeetingStatus.SCHEDULED,
                          created_by=stable_id("person", "ib"), created_at=now)
        db.add(meeting)
        db.flush()
        seal_meeting(vault, vault.new_key(db, "meeting", meeting.id, now), meeting,
                     place="Kamer 7", agenda=AGENDA)
        return meeting.id


def _categories(portal: Running, meeting_id: str) -> list[str]:
    with portal.portal.sessions() as db:
        return list(db.get_one(Meeting, meeting_id).agenda_categories)


def test_the_chair_sees_who_loses_the_agenda_cancels_then_confirms(
        browse: Browse, portal: Running) -> None:
    meeting_id = _meeting(portal)
    page = browse()
    log_in(page, "Ilse Bakker")
    page.goto(f"{portal.base_url}/meetings/{meeting_id}")
    expect(page.get_by_text(AGENDA)).to_be_visible()
    link = page.get_by_role("link", name="Soort informatie op de agenda wijzigen")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Soort informatie op de agenda wijzigen")
           ).to_be_visible()
    page.evaluate("() => { window.__noReload = 'still here' }")
    home = page.get_by_role("checkbox", name="Thuissituatie")
    home.focus()
    page.keyboard.press("Space")
    expect(home).to_be_checked()
    page.get_by_role("button", name="Toon het gevolg").focus()
    page.keyboard.press("Enter")

    consequence = page.locator("#change-consequence")
    heading = consequence.get_by_role("heading", name="Controleer het gevolg voordat u bevestigt")
    expect(heading).to_be_focused()  # a keyboard and screen-reader user lands on it
    losses = consequence.locator(".consequence-losses").get_by_role("listitem")
    expect(losses.first).to_have_text("u")
    expect(losses.filter(has_text="Mila Smit")).to_have_count(1)
    assert page.evaluate("() => window.__noReload") == "still here", "an htmx swap"
    assert _categories(portal, meeting_id) == ["behaviour"], "nothing changes yet"

    page.get_by_role("link", name="Annuleren").click()
    expect(page.get_by_text(AGENDA)).to_be_visible()
    assert _categories(portal, meeting_id) == ["behaviour"], "cancelled: nothing changed"

    page.goto(f"{portal.base_url}/meetings/{meeting_id}/categories")
    page.get_by_role("checkbox", name="Thuissituatie").check()
    page.get_by_role("button", name="Toon het gevolg").click()
    # The swap moves the focus to the consequence's heading once it has settled:
    # focusing the button before that loses it to the heading (the Enter then did
    # nothing, once, on a busy machine).
    expect(heading).to_be_focused()
    confirm = page.get_by_role("button", name="Wijziging bevestigen")
    confirm.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{portal.base_url}/meetings/{meeting_id}")
    expect(page.get_by_text("Kamer 7")).to_be_visible()  # the place: logistics
    expect(page.get_by_text(AGENDA)).to_have_count(0)  # she chose to lose sight of it
    assert _categories(portal, meeting_id) == ["behaviour", "family_situation"]
