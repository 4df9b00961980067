"""Dutch by default; the header button switches to English, with <html lang>."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.pages import DEMO_LOGIN, Header, PersonaPicker, log_in


def test_switch_to_english_and_back(portal_page: Page) -> None:
    page = portal_page
    cases = log_in(page, "Mirjam de Vries")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    header = Header(page)
    english = header.language_button("English")
    # The button's own text is English, and says so to a screen reader.
    expect(english).to_have_attribute("lang", "en")

    english.click()
    expect(page).to_have_url(re.compile(r"/cases$"))  # back where we were
    expect(page.get_by_role("heading", level=1)).to_have_text("My cases")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_title("My cases · MDO Portal")
    menu = page.get_by_role("navigation", name="Main menu")
    expect(menu.get_by_role("link", name="My cases")).to_have_attribute("aria-current", "page")
    expect(menu.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_role("link", name="Skip to content")).to_be_attached()
    dutch = menu.get_by_role("button", name="Nederlands", exact=True)
    expect(dutch).to_have_attribute("lang", "nl")

    # The choice sticks to the session, page after page.
    page.get_by_role("link", name="New case").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a new MDO case")
    expect(page.get_by_label("Child", exact=True)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    dutch.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Een nieuwe MDO-casus starten")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    cases.open()


def test_language_chosen_before_login_is_kept_after_login(portal_page: Page) -> None:
    page = portal_page
    page.goto("/login")
    Header(page).language_button("English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to the MDO Portal")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name=DEMO_LOGIN).click()
    PersonaPicker(page).wait()  # the dev IdP page follows the browser (nl-NL), not the choice
    PersonaPicker(page).persona("Mirjam de Vries").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("What needs you today")
    expect(page.locator("html")).to_have_attribute("lang", "en")
