"""Plain HTML forms (no htmx) as a real browser submits them."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from playwright.sync_api import expect

from e2e.pages import Header, LoginPage, log_in
from portal.demo import DEMO_CASE

if TYPE_CHECKING:
    from e2e.conftest import Browse


def test_plain_form_post_works_in_a_real_browser(browse: Browse) -> None:
    page = browse()
    LoginPage(page).open()
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        Header(page).language_button("English").click()
    response = posted.value
    assert response.request.header_value("origin") == "null"  # what browsers really send
    assert response.status == 303, f"the language form was refused with {response.status}"
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to the MDO Portal")


def test_htmx_post_sends_the_real_origin_and_works_without_the_workaround(
        browse: Browse) -> None:
    """htmx's XMLHttpRequest is CORS-mode: Chromium sends the page's origin, so
    the htmx forms work; only plain forms hit the 'Origin: null' bug above."""
    page = browse()
    cases = log_in(page, "Ilse Bakker")  # the dev IdP's own form has no origin check
    case = cases.open_case(DEMO_CASE.title)  # the demo case; Ilse is its chair
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        case.add_participant("Youssef El Amrani")
    response = posted.value
    assert response.request.header_value("origin") == urlsplit(page.url)._replace(
        path="", query="", fragment="").geturl()
    assert response.status == 200
    expect(case.participant("Youssef El Amrani")).to_contain_text("deelnemer")
