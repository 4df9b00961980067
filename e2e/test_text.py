"""A title that hides its real direction is refused in the browser, with the field named."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playwright.sync_api import expect
from sqlalchemy import func, select

from e2e.pages import log_in
from portal.cases.models import Case
from tests.harness import Running

if TYPE_CHECKING:
    from e2e.conftest import Browse

BIDI_TITLE = "Verslag \u202efdp.exe\u202c"  # displays as "Verslag exe.pdf"


def test_a_bidi_override_title_is_refused_and_kept(browse: Browse, portal: Running) -> None:
    page = browse()
    with portal.portal.sessions() as db:
        before = db.scalar(select(func.count()).select_from(Case))
    form = log_in(page, "Mirjam de Vries").start_new_case()
    form.child.select_option(label="Sam Mulder")
    form.title.fill(BIDI_TITLE)
    form.purpose.fill("Afstemmen van de begeleiding")
    form.submit.click()
    expect(page.get_by_role("alert")).to_be_visible()
    title = page.get_by_label("Titel")
    expect(title).to_have_accessible_description(
        "Dit veld bevat verborgen stuur- of schrijfrichtingstekens. Verwijder ze "
        "(typ de tekst opnieuw in plaats van hem te plakken).")
    expect(title).to_have_value(BIDI_TITLE)
    expect(page.get_by_label("Doel (doelbinding)")).to_have_value("Afstemmen van de begeleiding")
    with portal.portal.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Case)) == before
    # Retyped without the hidden characters, the case is created.
    title.fill("Verslag fdp.exe")
    page.get_by_role("button", name="Casus aanmaken").click()
    expect(page.get_by_role("heading", level=1, name="Verslag fdp.exe")).to_be_visible()
