"""The daily work in a real browser: htmx forms that say what is wrong, the
warning before the idle timeout, and pages that do not scroll sideways."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playwright.sync_api import expect

from e2e.pages import log_in
from portal.demo import DEMO_CASE

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
