"""Invoking a legal ground in a real browser: found by label, refused input kept, the DPO told.

Issue 12, finding 1: a ground is a scoped, justified disclosure basis, not a
dropdown that opens the whole case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from playwright.sync_api import expect

from e2e.pages import LoginPage, log_in
from portal.demo import DEMO_CASE, stable_id
from tests.harness import Running

if TYPE_CHECKING:
    from e2e.conftest import Browse

SAM_CASE = stable_id("case", DEMO_CASE.key)
WHY = "Sam vertelde over geweld thuis; ik moet de gezondheidsnotities kunnen inzien."


def test_the_chair_invokes_a_scoped_ground_and_the_dpo_sees_it(browse: Browse,
                                                               portal: Running) -> None:
    page = browse()
    log_in(page, "Ilse Bakker")
    page.goto(f"/cases/{SAM_CASE}")
    page.get_by_role("link", name="Wettelijke grondslagen zonder toestemming").click()
    expect(page.get_by_role("heading", level=1,
                            name="Wettelijke grondslagen zonder toestemming")).to_be_visible()
    form = page.get_by_role("region", name="Een wettelijke grondslag inroepen")
    form.get_by_label("Wettelijke grondslag", exact=True).select_option("vital_interest")
    form.get_by_role("checkbox", name="Ilse Bakker", exact=True).check()
    form.get_by_role("checkbox", name="Gezondheid", exact=True).check()
    justification = form.get_by_label("Onderbouwing", exact=False)
    justification.fill("zorgen")
    justification.press("Tab")
    form.get_by_role("button", name="Deze grondslag inroepen").press("Enter")
    # The browser's own check (minlength) or the portal's: nothing is invoked.
    expect(page.get_by_role("heading", name="Grondslagen bij deze casus")).to_be_visible()
    expect(page.get_by_text("Er is geen wettelijke grondslag ingeroepen")).to_be_visible()
    form = page.get_by_role("region", name="Een wettelijke grondslag inroepen")
    form.get_by_label("Onderbouwing", exact=False).fill(WHY)
    form.get_by_role("button", name="Deze grondslag inroepen").click()
    grounds = page.get_by_role("region", name="Grondslagen bij deze casus")
    expect(grounds).to_contain_text(WHY)
    expect(grounds).to_contain_text("Wachten op beoordeling door de FG")
    expect(grounds).to_contain_text("Gezondheid")

    dpo = browse()
    LoginPage(dpo).open().choose_demo_login().persona("Fenna Gerritsen").click()
    expect(dpo.get_by_role("button", name="Uitloggen")).to_be_visible()
    dpo.goto("/dpo/grounds")
    expect(dpo.get_by_role("heading", level=1, name="Te beoordelen wettelijke grondslagen")) \
        .to_be_visible()
    expect(dpo.get_by_text(WHY)).to_have_count(0)
    dpo.get_by_role("button", name="Markeren als beoordeeld").first.click()
    expect(dpo.get_by_text("beoordeeld op")).to_be_visible()
