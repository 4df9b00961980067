"""Notifications in a real browser: the chair adds a participant, who sees the unread
count in the header and opens the notification to the case."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.sync_api import expect

from e2e.pages import CasePage, Header, log_in
from portal.demo import DEMO_CASE, stable_id
from tests.harness import Running

if TYPE_CHECKING:
    from e2e.conftest import Browse

CASE_PATH = f"/cases/{stable_id('case', DEMO_CASE.key)}"


def test_an_added_participant_sees_the_count_and_opens_the_notification(
        browse: Browse, portal: Running) -> None:
    chair = browse()
    log_in(chair, "Ilse Bakker")
    chair.goto(CASE_PATH)
    case = CasePage(chair).wait(DEMO_CASE.title)
    case.add_participant("Lars Jansen")
    expect(case.participant("Lars Jansen")).to_be_visible()

    leader = browse()
    log_in(leader, "Lars Jansen")
    menu = Header(leader).menu
    inbox_link = menu.get_by_role("link", name=re.compile(r"^Meldingen"))
    expect(inbox_link).to_have_accessible_name("Meldingen 1 ongelezen melding")
    inbox_link.click()
    expect(leader.get_by_role("heading", level=1, name="Meldingen")).to_be_visible()
    expect(inbox_link).to_have_attribute("aria-current", "page")
    leader.get_by_role("link", name=re.compile("U bent toegevoegd aan een casus")).click()
    CasePage(leader).wait(DEMO_CASE.title)
    expect(inbox_link).to_have_accessible_name("Meldingen")
