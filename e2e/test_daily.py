"""The daily work in a real browser: htmx forms that say what is wrong, the
warning before the idle timeout, and pages that do not scroll sideways."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from e2e.pages import KeyboardUser, LoginPage, disclosure, log_in, open_disclosure
from portal.demo import DEMO_CASE, stable_id

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from e2e.conftest import Browse


def open_tab(page: Page, name: str) -> None:
    """Follow one of the case page's tabs, as a user would."""
    page.get_by_role("navigation", name="Onderdelen van deze casus") \
        .get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("navigation", name="Onderdelen van deze casus")
           .get_by_role("link", name=name, exact=True)).to_have_attribute("aria-current", "page")


def test_htmx_participant_form_shows_its_errors_in_place(browse: Browse) -> None:
    page = browse()
    case = log_in(page, "Ilse Bakker").open_case(DEMO_CASE.title)
    open_disclosure(case.add_form)
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
    open_tab(page, "Actiepunten")
    items = page.get_by_role("region", name="Actiepunten")
    open_disclosure(disclosure(items, "Actiepunt toevoegen"))
    items.get_by_label("Wat er gaat gebeuren").fill("Contact opnemen met de huisarts")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        items.get_by_role("button", name="Actiepunt toevoegen").click()  # no due date
    assert posted.value.status == 400
    summary = items.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).not_to_have_count(0)
    expect(items.get_by_label("Wat er gaat gebeuren")).to_have_value(
        "Contact opnemen met de huisarts")


def test_the_add_forms_wait_behind_a_button_that_opens_by_keyboard(browse: Browse) -> None:
    """The case page's tabs open short: each add or upload form is closed until asked
    for, opens with Enter on its button, and comes back open when it was refused."""
    page = browse()
    case = log_in(page, "Ilse Bakker").open_case(DEMO_CASE.title)
    items = page.get_by_role("region", name="Actiepunten")
    documents = page.get_by_role("region", name="Verslagen en bijlagen")
    closed = {"participant": ("Overzicht", case.add_form, case.professional),
              "action item": ("Actiepunten", disclosure(items, "Actiepunt toevoegen"),
                              items.get_by_label("Wat er gaat gebeuren")),
              "upload": ("Verslagen en documenten", disclosure(documents, "Een bestand uploaden"),
                         documents.get_by_label("Bestand", exact=True))}
    for what, (tab, details, field) in closed.items():
        open_tab(page, tab)
        expect(details, what).to_have_count(1)
        expect(details, what).not_to_have_attribute("open", "")
        expect(field, what).to_be_hidden()
    open_tab(page, "Overzicht")

    # By keyboard: focus the button, Enter opens it, Tab reaches the first field.
    keys = KeyboardUser(page)
    summary = case.add_form.locator("summary")
    summary.focus()
    keys.assert_focus_visible()
    keys.press("Enter")
    expect(case.add_form).to_have_attribute("open", "")
    expect(case.professional).to_be_visible()
    keys.tab()
    assert keys.is_focused(case.professional), f"after opening: {keys.trail[-1]}"

    # Refused: the section comes back (htmx) with the form open and the error focused.
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        case.add_button.click()  # no professional chosen
    assert posted.value.status == 400
    expect(case.participants.get_by_role("alert")).to_be_focused()
    expect(case.add_form).to_have_attribute("open", "")
    expect(case.professional).to_have_attribute("aria-invalid", "true")
    # The other forms stay as they were.
    expect(case.page.locator("details[open]")).to_have_count(1)

    # Without htmx (a full page, as when its script did not load) it comes back open too.
    page.route("**/htmx.min.js", lambda route: route.abort())
    page.reload()
    open_disclosure(case.add_form)
    with page.expect_navigation():
        case.add_button.click()
    expect(case.participants.get_by_role("alert")).to_be_focused()
    expect(case.add_form).to_have_attribute("open", "")
    expect(case.professional).to_have_attribute("aria-invalid", "true")


def test_erasing_the_case_stands_apart_at_the_end_after_closing(browse: Browse) -> None:
    page = browse()
    case = log_in(page, "Ilse Bakker").open_case(DEMO_CASE.title)
    closing = page.get_by_role("region", name="Deze casus sluiten")
    erasing = page.get_by_role("region", name="Deze casus wissen")
    close = closing.get_by_role("button", name="Casus sluiten")
    erase = erasing.get_by_role("button", name="De hele casus wissen")
    expect(close).to_be_visible()
    expect(erase).to_be_visible()
    expect(erasing.get_by_role("button")).to_have_count(1)  # nothing everyday next to it
    expect(erasing.get_by_label("Ik begrijp dat dit niet ongedaan kan worden gemaakt"))\
        .to_have_attribute("required", "")
    # Nothing follows the erasure on the page, and it does not look like other buttons.
    last = page.evaluate("""() => [...document.querySelectorAll("main section, main form")]
        .pop().closest("section").id""")
    assert last == "erase-case", f"the last section is #{last}"
    colour = "el => getComputedStyle(el).backgroundColor"
    add = case.add_form.locator("summary")
    assert erase.evaluate(colour) not in {close.evaluate(colour), add.evaluate(colour)}


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
