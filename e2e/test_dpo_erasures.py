"""The DPO reaches the erasure backlog from the menu, by keyboard, in Dutch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playwright.sync_api import expect

from e2e.pages import Header, LoginPage
from tests.documents.helpers import CASE_PATH, logged_in, upload_new
from tests.harness import Running

if TYPE_CHECKING:
    from e2e.conftest import Browse


def test_dpo_sees_what_backups_could_still_bring_back(browse: Browse, portal: Running) -> None:
    ib = logged_in(portal, "ib")
    document_id = upload_new(portal, ib, b"wordt gewist\n" * 100, "weg.txt")
    ib.submit(f"{CASE_PATH}/documents/{document_id}/erase", {"confirm": "on"})

    page = browse()
    LoginPage(page).open().choose_demo_login().persona("Fenna Gerritsen").click()
    link = Header(page).menu.get_by_role("link", name="Wissingen in back-ups")
    expect(link).to_be_visible()
    link.focus()
    page.keyboard.press("Enter")
    title = "Wissingen die nog uit back-ups te herstellen zijn"
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    table = page.get_by_role("table", name=f"{title}, nieuwste eerst")
    expect(table.get_by_role("row")).to_have_count(2)  # the header and one erasure
    expect(page.get_by_text("Te herstellen uit back-ups tot het nieuwe sleuteltijdvak, "
                            "uiterlijk")).to_be_visible()
    expect(page.get_by_text("weg.txt")).to_have_count(0)
