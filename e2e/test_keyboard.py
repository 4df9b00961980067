"""Log in and start a case with the keyboard only, seeing focus at every stop."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.pages import (
    CaseListPage,
    CasePage,
    Header,
    KeyboardUser,
    LoginPage,
    NewCasePage,
    PersonaPicker,
    StartPage,
    log_in,
)

TITLE = "Toetsenbordcasus"
PURPOSE = "Alleen met het toetsenbord aangemaakt."


def first_tab_is_skip_link(keys: KeyboardUser, page: Page) -> None:
    keys.tab()
    assert keys.is_focused(Header(page).skip_link), f"first Tab stop: {keys.trail[-1]}"


def test_login_and_new_case_by_keyboard_only(portal_page: Page) -> None:
    page = portal_page
    keys = KeyboardUser(page)
    page.goto("/")  # anonymous: sent to the login page
    login = LoginPage(page)
    expect(login.heading).to_be_visible()

    # The skip link is the first stop and really skips the header.
    first_tab_is_skip_link(keys, page)
    keys.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    keys.tab()
    assert keys.is_focused(login.demo_login), f"after the skip link: {keys.trail[-1]}"
    keys.press("Enter")

    picker = PersonaPicker(page).wait()
    first_tab_is_skip_link(keys, page)
    keys.tab_to(picker.persona("Mirjam de Vries"))
    keys.press("Enter")

    start = StartPage(page).wait()
    first_tab_is_skip_link(keys, page)
    keys.tab_to(start.cases_link)
    keys.press("Enter")
    cases = CaseListPage(page).wait()
    keys.tab_to(cases.new_case_link)
    keys.press("Enter")

    form = NewCasePage(page).wait()
    keys.tab_to(form.child)
    keys.type("Sam")  # type-ahead in the closed select
    expect(form.child.locator("option:checked")).to_have_text("Sam Mulder")
    keys.tab()
    assert keys.is_focused(form.anonymous)
    keys.press("Space")
    expect(form.anonymous).to_be_checked()
    keys.press("Space")
    expect(form.anonymous).not_to_be_checked()
    keys.tab()
    assert keys.is_focused(form.title)
    keys.type(TITLE)
    keys.tab()
    assert keys.is_focused(form.purpose)
    keys.type(PURPOSE)
    keys.tab()
    assert keys.is_focused(form.legal_basis)
    expect(form.legal_basis.locator("option:checked")).to_have_text("Toestemming")
    keys.tab()
    assert keys.is_focused(form.submit)
    keys.press("Space")

    case = CasePage(page).wait(TITLE)
    expect(case.fact("Kind")).to_contain_text("Sam Mulder")
    expect(case.fact("Doel")).to_have_text(PURPOSE)

    # Add a participant through the htmx form, still by keyboard: open it first.
    keys.tab_to(case.add_form.locator("summary"))
    keys.press("Enter")
    keys.tab_to(case.professional)
    keys.type("Youssef")
    expect(case.professional.locator("option:checked")).to_have_text(re.compile("^Youssef"))
    keys.tab()
    assert keys.is_focused(case.case_role)
    keys.tab()
    assert keys.is_focused(case.add_button)
    keys.press("Enter")
    # Youth care joins: the consequence is shown first, focused, and confirmed by keyboard.
    expect(page.locator("#consequence-heading")).to_be_focused()
    keys.tab_to(case.confirm_button)
    keys.press("Enter")
    expect(case.participant("Youssef El Amrani")).to_be_visible()


def test_missing_child_by_keyboard_is_announced_and_tied_to_the_field(
        portal_page: Page) -> None:
    page = portal_page
    keys = KeyboardUser(page)
    log_in(page, "Mirjam de Vries").start_new_case()
    form = NewCasePage(page)
    keys.tab_to(form.title)  # no child chosen
    keys.type(TITLE)
    keys.tab()
    keys.type(PURPOSE)
    keys.tab_to(form.submit)
    keys.press("Enter")

    # Focus moves to the error summary; its entry links to the field.
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("Er is een probleem")
    expect(page).to_have_title(re.compile("^Fout: "))
    error_link = summary.get_by_role("link", name="Kies een kind, of maak de casus anoniem.")
    keys.tab()
    assert keys.is_focused(error_link)
    keys.press("Enter")
    expect(form.child).to_be_focused()
    expect(form.child).to_have_attribute("aria-invalid", "true")
    expect(form.child).to_have_accessible_description(
        "Kies een kind, of maak de casus anoniem.")
    # What was typed is kept.
    expect(form.title).to_have_value(TITLE)
    expect(form.purpose).to_have_value(PURPOSE)
    # From the field the user goes on through the form, not from the page's top.
    keys.tab()
    assert keys.is_focused(form.anonymous), f"after the field: {keys.focused()}"


def test_focus_stays_in_participants_after_adding_by_keyboard(portal_page: Page) -> None:
    page = portal_page
    keys = KeyboardUser(page)
    case = log_in(page, "Mirjam de Vries").start_new_case().create(
        child="Sam Mulder", title=TITLE, purpose=PURPOSE)
    keys.tab_to(case.add_form.locator("summary"))
    keys.press("Enter")
    keys.tab_to(case.professional)
    keys.type("Youssef")
    keys.tab_to(case.add_button)
    keys.press("Enter")
    # Youth care joins: the consequence is shown first, focused, and confirmed by keyboard.
    expect(page.locator("#consequence-heading")).to_be_focused()
    keys.tab_to(case.confirm_button)
    keys.press("Enter")
    expect(case.participant("Youssef El Amrani")).to_be_visible()
    # htmx moves the focus after the swap settles: wait for it, then check where it is.
    expect(case.participants.locator(":focus")).to_have_count(1)
