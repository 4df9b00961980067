"""The daily work in a real browser: htmx forms that say what is wrong, the
warning before the idle timeout, and pages that do not scroll sideways."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from e2e.pages import LoginPage, log_in
from portal.demo import DEMO_CASE, stable_id

if TYPE_CHECKING:
    from e2e.conftest import Browse


def test_htmx_participant_form_shows_its_errors_in_place(browse: Browse) -> None:
    page = browse()
    case = log_in(page, "Ilse Bakker").open_case(DEMO_CASE.title)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        case.add_button.click()  # no professional chosen
    assert posted.value.status == 400
    summary = case.participants.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Kies een professional om toe te voegen.")
    expect(case.professional).to_have_attribute("aria-invalid", "true")
    expect(case.professional).to_have_accessible_description(
        "Kies een professional om toe te voegen.")
    summary.get_by_role("link").click()
    expect(case.professional).to_be_focused()


def test_htmx_action_item_form_shows_its_errors_and_keeps_the_text(browse: Browse) -> None:
    page = browse()
    log_in(page, "Ilse Bakker").open_case(DEMO_CASE.title)
    items = page.get_by_role("region", name="Actiepunten")
    items.get_by_label("Wat er gaat gebeuren").fill("Contact opnemen met de huisarts")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        items.get_by_role("button", name="Actiepunt toevoegen").click()  # no due date
    assert posted.value.status == 400
    summary = items.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).not_to_have_count(0)
    expect(items.get_by_label("Wat er gaat gebeuren")).to_have_value(
        "Contact opnemen met de huisarts")


def test_a_warning_comes_before_the_idle_timeout_and_stay_logged_in_keeps_the_session(
        browse: Browse) -> None:
    page = browse()
    page.clock.install()
    cases = log_in(page, "Ilse Bakker")
    warning = page.get_by_role("alert").filter(has_text="over twee minuten uitgelogd")
    expect(warning).to_be_hidden()
    page.clock.run_for("12:50")  # the demo's idle timeout is 15 minutes
    expect(warning).to_be_hidden()
    page.clock.run_for("00:20")
    expect(warning).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith("/session/alive")) as alive:
        warning.get_by_role("button", name="Ingelogd blijven").click()
    assert alive.value.status == 204
    expect(warning).to_be_hidden()
    expect(cases.heading).to_be_visible()


# Reflow (WCAG 1.4.10): the pages that scrolled sideways on a phone, as the
# person who reads them. A data table may scroll inside its own box; the page may not.
SAM_CASE = stable_id("case", DEMO_CASE.key)
SAM = stable_id("child", DEMO_CASE.child)
REFLOW_PAGES = [
    ("Petra Mulder", f"/family/cases/{SAM_CASE}"),
    ("Petra Mulder", f"/child-access/{SAM}"),
    ("Ilse Bakker", "/"),
    ("Ilse Bakker", f"/cases/{SAM_CASE}"),
    ("Ilse Bakker", f"/cases/{SAM_CASE}/consent"),
    ("Fenna Gerritsen", "/audit"),
    ("Fenna Gerritsen", "/"),
    ("Anton Kramer", "/admin"),
]


@pytest.mark.parametrize("persona", sorted({p for p, _ in REFLOW_PAGES}))
def test_no_page_scrolls_sideways_on_a_phone_or_a_desktop(browse: Browse,
                                                           persona: str) -> None:
    page = browse()
    LoginPage(page).open().choose_demo_login().persona(persona).click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    too_wide = []
    for path in [p for who, p in REFLOW_PAGES if who == persona]:
        for width in (320, 390, 1280):
            page.set_viewport_size({"width": width, "height": 800})
            response = page.goto(path)
            assert response is not None and response.status == 200, (path, response)
            scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
            if scroll_width > width:
                too_wide.append(f"{path} at {width}px is {scroll_width}px wide")
    assert too_wide == []
