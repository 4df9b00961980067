"""In Chromium: before a change of participants the chair sees its consequence, and
cancelling changes nothing (issue 12, finding 3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playwright.sync_api import expect
from sqlalchemy import select

from e2e.pages import CasePage, log_in
from portal.cases.models import CaseParticipant
from portal.demo import DEMO_CASE, stable_id
from tests.harness import Running

if TYPE_CHECKING:
    from e2e.conftest import Browse

SAM_CASE = stable_id("case", DEMO_CASE.key)
YOUSSEF = stable_id("person", "jeugdhulp")


def _participants(portal: Running) -> set[str]:
    with portal.portal.sessions() as db:
        return set(db.scalars(select(CaseParticipant.person_id)
                              .where(CaseParticipant.case_id == SAM_CASE)))


def test_the_chair_sees_the_consequence_and_cancels(browse: Browse, portal: Running) -> None:
    before = _participants(portal)
    page = browse()
    log_in(page, "Ilse Bakker")
    page.goto(f"{portal.base_url}/cases/{SAM_CASE}")
    case = CasePage(page)
    page.evaluate("() => { window.__noReload = 'still here' }")
    case.add_participant("Youssef El Amrani", confirm=False)

    consequence = page.locator("#change-consequence")
    expect(consequence).to_contain_text("jeugdhulp-setting")
    expect(consequence).to_contain_text("moet ook Sam Mulder (")
    losses = consequence.get_by_role("listitem")
    expect(losses.first).to_have_text("u: Schoolvorderingen, Gedrag, Sociaal-emotioneel")
    expect(losses.filter(has_text="Mila Smit")).to_have_count(1)
    heading = consequence.get_by_role("heading", name="Controleer het gevolg voordat u bevestigt")
    expect(heading).to_be_focused()  # a keyboard and screen-reader user lands on it
    assert page.evaluate("() => window.__noReload") == "still here", "an htmx swap"
    assert _participants(portal) == before, "nothing changes before the confirmation"

    page.get_by_role("link", name="Annuleren").click()
    expect(case.add_form.locator("summary")).to_be_visible()
    expect(case.participant("Youssef El Amrani")).to_have_count(0)
    expect(page.locator("#change-consequence")).to_have_count(0)
    assert _participants(portal) == before, "cancelled: nothing changed"
    assert "Jeugdhulp-setting sinds" not in page.content()
