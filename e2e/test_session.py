"""An idle session expires (15 minutes) while a case page is open."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.pages import CaseListPage, CasePage, LoginPage, PersonaPicker, log_in
from tests.harness import Running

TITLE = "Verlopen sessie"
IDLE = {"minutes": 16}


def open_case_then_idle(page: Page, portal: Running) -> CasePage:
    case = log_in(page, "Mirjam de Vries").start_new_case().create(
        child="Sam Mulder", title=TITLE, purpose="Een doel.")
    portal.clock.advance(**IDLE)
    return case


def test_expired_session_reload_goes_to_login_and_back_to_the_case(
        portal_page: Page, portal: Running) -> None:
    page = portal_page
    open_case_then_idle(page, portal)
    case_path = re.sub(r"^https?://[^/]+", "", page.url)

    page.reload()
    login = LoginPage(page)
    expect(login.heading).to_be_visible()
    assert TITLE not in page.content()
    login.demo_login.click()
    PersonaPicker(page).wait().persona("Mirjam de Vries").click()
    expect(page).to_have_url(re.compile(re.escape(case_path) + "$"))
    CasePage(page).wait(TITLE)


def test_expired_session_during_htmx_sends_user_to_login(
        portal_page: Page, portal: Running) -> None:
    page = portal_page
    case = open_case_then_idle(page, portal)
    case_path = re.sub(r"^https?://[^/]+", "", page.url)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        case.add_participant("Youssef El Amrani", confirm=False)
    response = posted.value
    assert response.status == 401, f"answered {response.status}, nothing shown to the user"
    assert response.header_value("hx-redirect") == f"/login?next={case_path}&expired=1"
    login = LoginPage(page)
    expect(login.heading).to_be_visible()
    login.demo_login.click()
    PersonaPicker(page).wait().persona("Mirjam de Vries").click()
    CasePage(page).wait(TITLE)
    expect(case.participant("Youssef El Amrani")).to_have_count(0)  # nothing was added


def test_log_out_ends_the_session_at_the_portal_and_the_idp(portal_page: Page) -> None:
    page = portal_page
    cases = log_in(page, "Mirjam de Vries")
    cases.header.log_out_button().click()
    expect(page).to_have_url(re.compile(r"/logged-out$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("U bent uitgelogd")
    # Back to the case list: not from a cache (no-store), the portal asks to log in.
    page.go_back()
    expect(LoginPage(page).heading).to_be_visible()
    expect(CaseListPage(page).heading).to_have_count(0)
    page.goto("/cases")
    expect(LoginPage(page).heading).to_be_visible()
