"""In Chromium: a professional reports a data breach, the FG assesses it and sets its
scope from the access log (strict CSP guarded on every page by the fixtures)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from playwright.sync_api import expect

from e2e.pages import Header, LoginPage
from portal.demo import DEMO_CASE
from portal.localtime import LOCAL_TIME
from tests.harness import Running

if TYPE_CHECKING:
    from e2e.conftest import Browse

WHAT = "Een uitdraai van het MDO-verslag is op het kopieerapparaat blijven liggen."


def test_a_breach_is_reported_assessed_and_scoped(browse: Browse, portal: Running) -> None:
    now = portal.clock().astimezone(LOCAL_TIME)
    earlier = now - timedelta(hours=1)

    mentor = browse()
    LoginPage(mentor).open().choose_demo_login().persona("Mirjam de Vries").click()
    Header(mentor).menu.get_by_role("link", name="Datalek melden").click()
    expect(mentor.get_by_role("heading", level=1, name="Datalek melden")).to_be_visible()
    mentor.get_by_label("Wat is er gebeurd?").fill(WHAT)
    mentor.get_by_label("Datum van ontdekking").fill(earlier.strftime("%Y-%m-%d"))
    mentor.get_by_label("Tijd van ontdekking (Nederlandse tijd)").fill(earlier.strftime("%H:%M"))
    mentor.get_by_label("Hoe is het ontdekt?").fill("Een collega vond het en bracht het terug.")
    mentor.get_by_role("button", name="Datalek melden").click()
    expect(mentor.get_by_role("heading", level=1, name="Datalek gemeld")).to_be_visible()

    fg = browse()
    LoginPage(fg).open().choose_demo_login().persona("Fenna Gerritsen").click()
    expect(fg.get_by_role("heading", level=2, name="Datalekken")).to_be_visible()
    expect(fg.get_by_text("1 wacht op een besluit")).to_be_visible()
    Header(fg).menu.get_by_role("link", name="Datalekken").click()
    register = fg.get_by_role("table", name="Datalekken, te late en onbesliste eerst")
    expect(register.get_by_role("row")).to_have_count(2)
    expect(register).to_contain_text("uiterlijk")
    register.get_by_role("link", name=earlier.strftime("%d-%m-%Y %H:%M")).click()
    expect(fg.get_by_text(WHAT)).to_be_visible()

    fg.get_by_label("Uw beoordeling (risico voor de kinderen en gezinnen, genomen "
                    "maatregelen)").fill("Beperkt risico: de uitdraai is binnen een uur terug.")
    fg.get_by_role("button", name="Beoordeling opslaan").click()
    expect(fg.get_by_text("Beperkt risico: de uitdraai is binnen een uur terug.").first
           ).to_be_visible()

    # The mentor's start page listed Sam's case: the access log names it.
    fg.get_by_label("alles wat één persoon heeft ingezien").check()
    fg.get_by_label("Persoon (verplicht bij inzagen; optioneel bij exports)").select_option(
        label="Mirjam de Vries")
    fg.get_by_label("Vanaf (datum, Nederlandse tijd)").fill(earlier.strftime("%Y-%m-%d"))
    fg.get_by_label("Vanaf (tijd)").fill(earlier.strftime("%H:%M"))
    later = now + timedelta(hours=1)
    fg.get_by_label("Tot (datum)").fill(later.strftime("%Y-%m-%d"))
    fg.get_by_label("Tot (tijd)").fill(later.strftime("%H:%M"))
    fg.get_by_role("button", name="Omvang berekenen en de partners informeren").click()
    reach = fg.locator("#reach")
    expect(reach).to_contain_text("In totaal geraakt: 1 kind, 1 casus")
    expect(reach).to_contain_text("Scholengemeenschap Het Baken")
    expect(fg.get_by_text(DEMO_CASE.title)).to_have_count(0)
