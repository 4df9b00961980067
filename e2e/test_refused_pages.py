"""Refused input in the browser: the search's wrong date and the access log's
refused filters pass axe under the real CSP, do not scroll sideways, and a
refused full-page form hands focus to its error summary."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from e2e.pages import LoginPage, StartPage, log_in
from e2e.test_accessibility import AXE, Crawl, audit
from portal.demo import DEMO_CASE, stable_id
from portal.localtime import local_time
from portal.meetings.models import Meeting
from tests.harness import Running

if TYPE_CHECKING:
    from e2e.conftest import Browse

SAM_CASE = stable_id("case", DEMO_CASE.key)
DEMO_MEETING = stable_id("meeting", DEMO_CASE.key)


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.skip("node_modules/axe-core is missing: run `make setup` (npm ci)")
    return AXE.read_text(encoding="utf-8")


def test_search_by_meeting_date_and_a_wrong_date(
        browse: Browse, portal: Running, axe_source: str) -> None:
    with portal.portal.sessions() as db:
        day = local_time(db.get_one(Meeting, DEMO_MEETING).starts_at, "%d-%m-%Y")
    page = browse()
    log_in(page, "Ilse Bakker")
    crawl = Crawl(browse.base_url)

    search = page.get_by_role("search").get_by_label(re.compile("datum van een overleg"))
    page.goto("/search")
    search.fill(day)
    search.press("Enter")
    expect(page.get_by_role("main").get_by_role("link", name=DEMO_CASE.title)).to_be_visible()
    audit(page, f"/search?q={day}", crawl, axe_source)

    page.goto("/search")
    search.fill("31-02-2026")
    search.press("Enter")
    expect(page).to_have_title(re.compile("^Fout: "))
    expect(search).to_have_attribute("aria-invalid", "true")
    expect(search).to_have_accessible_description(re.compile("Dit is geen datum"))
    audit(page, "/search?q=31-02-2026", crawl, axe_source)
    assert crawl.problems == []


def test_a_refused_log_search_focuses_its_error_summary(
        browse: Browse, axe_source: str) -> None:
    page = browse()
    LoginPage(page).open().choose_demo_login().persona("Fenna Gerritsen").click()
    StartPage(page).wait()
    crawl = Crawl(browse.base_url)
    page.goto("/audit?date_from=gisteren&organisation=abc")
    expect(page).to_have_title(re.compile("^Fout: "))
    summary = page.get_by_role("alert").filter(has_text="Er is een probleem")
    expect(summary).to_be_focused()
    for link in summary.get_by_role("link").all():
        target = link.get_attribute("href")
        assert target is not None and page.locator(target).count() == 1, target
    audit(page, "/audit", crawl, axe_source)
    assert crawl.problems == []
