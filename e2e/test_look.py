"""The NL Design System look in Chromium: a deployment's theme applies without code
changes, and no page scrolls sideways on a 320-pixel phone (WCAG 1.4.10 reflow)
nor at 1,280 pixels."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from e2e.pages import LoginPage
from portal.demo import personas
from tests.harness import Running
from tests.web.test_route_matrix import concrete, portal_routes
from tests.web.test_words import NOT_PAGES

if TYPE_CHECKING:
    from conftest import StartPortal
    from e2e.conftest import Browse

ROOT = Path(__file__).resolve().parents[1]
THEME_CSS = ROOT / "deploy/theme/example-school-board.css"
THEME_LOGO = ROOT / "deploy/theme/example-school-board.svg"
PETROL = "rgb(0, 97, 92)"  # the example theme's primary colour (#00615c)
PHONE = {"width": 320, "height": 640}
DESKTOP = {"width": 1280, "height": 900}
# What sticks out: the outermost elements whose right edge passes the window's.
STICKING_OUT = """() => [...document.querySelectorAll("body *")]
  .filter(e => e.getBoundingClientRect().right > innerWidth + 1
               && !(e.parentElement.getBoundingClientRect().right > innerWidth + 1))
  .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
                   + (e.className && typeof e.className === "string"
                      ? "." + e.className.trim().split(/\\s+/).join(".") : ""))"""
# Who looks at the pages at 320 px: each kind of user the portal has.
READERS = ("ib", "mentor", "notulist", "jeugdhulp", "fg", "beheerder", "ouder1", "leerling16")


def primary_button_colour(page: Page) -> str:
    button = page.locator(".utrecht-button-link--primary-action").first
    expect(button).to_be_visible()
    return str(button.evaluate("e => getComputedStyle(e).backgroundColor"))


def persona_button_border(page: Page) -> str:
    LoginPage(page).open().choose_demo_login()
    # The picker's heading shows before its stylesheets have loaded (seen under load:
    # the border read black); the computed style is only the page's once they have.
    page.wait_for_load_state("load")
    button = page.get_by_role("button", name="Ilse Bakker", exact=True)
    expect(button).to_have_class(re.compile(r"\butrecht-button--secondary-action\b"))
    return str(button.evaluate("e => getComputedStyle(e).borderTopColor"))


def test_a_theme_file_changes_the_look_without_code_changes(
        browse: Browse, sqlite_url: str, start_portal: StartPortal) -> None:
    plain = browse()
    LoginPage(plain).open()
    default_colour = primary_button_colour(plain)
    expect(plain.locator(".brand__logo")).to_have_count(0)
    default_border = persona_button_border(plain)

    themed_portal = start_portal(sqlite_url, theme_css=THEME_CSS, logo=THEME_LOGO)
    browse.base_url = themed_portal.base_url
    themed = browse()
    LoginPage(themed).open()
    assert primary_button_colour(themed) == PETROL != default_colour
    logo = themed.locator("header .brand__logo")
    expect(logo).to_be_visible()
    assert logo.evaluate("img => img.complete && img.naturalWidth > 0")  # loaded under the CSP
    expect(themed.get_by_role("link", name="MDO-portaal")).to_be_visible()  # the logo is decoration
    menu_bar = themed.locator(".site-nav")
    assert menu_bar.evaluate("e => getComputedStyle(e).backgroundColor") == PETROL
    # A real <button> too: the persona picker's secondary buttons take the theme's border.
    assert persona_button_border(themed) == PETROL != default_border


def html_pages(portal: Running, persona: str) -> list[str]:
    """The GET pages this persona gets a 200 HTML page for (the route table, filled in
    with the demo data's ids, as tests/web/test_words.py walks it)."""
    client = portal.client()
    client.login(persona)
    paths = sorted({concrete(route.path) for route in portal_routes(portal)
                    if "GET" in (route.methods or ()) and "{" not in concrete(route.path)
                    and not any(part in route.path for part in NOT_PAGES)})
    found = []
    for path in paths:
        response = client.get(path, follow_redirects=False)
        if response.status_code == 200 and "text/html" in response.headers.get(
                "content-type", ""):
            found.append(path)
    return found


def log_in_as(page: Page, persona: str) -> None:
    name = next(p.name for p in personas() if p.subject == persona)
    picker = LoginPage(page).open().choose_demo_login()
    with page.expect_navigation():
        picker.persona(name).click()
    expect(page.get_by_role("navigation", name="Hoofdmenu")).to_contain_text(name)


@pytest.mark.parametrize("persona", READERS)
def test_no_page_scrolls_sideways_on_a_phone_or_a_desktop(
        browse: Browse, portal: Running, persona: str) -> None:
    paths = html_pages(portal, persona)
    assert len(paths) >= 3, paths
    page = browse()
    page.set_viewport_size(PHONE)
    log_in_as(page, persona)
    too_wide = []
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        for path in paths:
            page.goto(path)
            expect(page.locator("main#main")).to_be_attached()
            width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
            if width[0] > width[1]:
                too_wide.append(f"{path} at {width[1]} px: {width[0]} px wide "
                                f"({page.evaluate(STICKING_OUT)})")
    assert too_wide == [], "\n".join(too_wide)
