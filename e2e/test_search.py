"""Search in a real browser: the care coordinator finds a case by the child's name."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.sync_api import expect

from e2e.pages import CasePage, Header, log_in
from portal.demo import DEMO_CASE
from tests.harness import Running

if TYPE_CHECKING:
    from e2e.conftest import Browse


def test_the_chair_finds_a_case_by_the_childs_name(browse: Browse, portal: Running) -> None:
    page = browse()
    log_in(page, "Ilse Bakker")
    Header(page).menu.get_by_role("link", name="Zoeken").click()
    expect(page.get_by_role("heading", level=1, name="Casussen zoeken")).to_be_visible()
    label = "Naam van het kind, titel van de casus of datum van een overleg"
    page.get_by_label(label).fill("mulder")
    page.get_by_role("search").get_by_role("button", name="Zoeken").click()
    expect(page).to_have_url(re.compile(r"/search\?q=mulder$"))
    results = page.get_by_role("region", name=re.compile("gevonden$"))
    expect(results.get_by_role("heading")).to_have_text("1 casus gevonden")
    results.get_by_role("link", name=DEMO_CASE.title).click()
    CasePage(page).wait(DEMO_CASE.title)
