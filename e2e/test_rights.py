"""Rectification in a real browser: a parent proposes a fact correction that the chair
accepts, and attaches her view to an opinion, which then shows on the professional's
minutes page next to that opinion.

The approved minutes are set up through the portal's own HTTP routes (not under
test here); what the issue asks to see happens in Chromium, by role and label.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.sync_api import expect

from e2e.pages import log_in
from e2e.test_consent import log_in_citizen
from portal.demo import DEMO_CASE
from tests.harness import Running
from tests.minutes.helpers import MINUTES, logged_in, save, section, submit_and_approve

if TYPE_CHECKING:
    from e2e.conftest import Browse

FACT = "Sam kwam in oktober 6 keer te laat."
CORRECTED = "Sam kwam in oktober 2 keer te laat; 4 keer reed de schoolbus niet."
OPINION = "Sam lijkt zich op school niet veilig te voelen."
VIEW = "Thuis gaat Sam graag naar school; de onrust komt door de busrit."


def approved_minutes(portal: Running) -> None:
    writer = logged_in(portal, "notulist")
    save(writer, section("Aanwezigheid", FACT, shared=True),
         section("Welbevinden", OPINION, nature="opinion", categories=("social_emotional",),
                 shared=True))
    submit_and_approve(portal, writer, 1)


def test_a_parent_rectifies_a_fact_and_adds_her_view_to_an_opinion(
        browse: Browse, portal: Running) -> None:
    approved_minutes(portal)

    # The mother proposes a correction of the fact from her family page.
    mother = browse()
    home = log_in_citizen(mother, "Petra Mulder")
    home.child("Sam Mulder").get_by_role("link", name=DEMO_CASE.title).click()
    shared = mother.get_by_role("region", name="Wat er is besproken en afgesproken")
    expect(shared).to_contain_text(FACT)
    shared.get_by_text("Dit klopt niet: een correctie voorstellen").click()
    shared.get_by_label("Wat moet er staan?").fill(CORRECTED)
    shared.get_by_label("Waarom klopt het niet?").fill(
        "De absentenlijst toont dat de bus vier keer uitviel.")
    shared.get_by_role("button", name="Correctie versturen").click()
    expect(mother.get_by_role("status").filter(has_text="naar de voorzitter")).to_be_visible()
    mine = mother.get_by_role("region", name="Uw correcties")
    expect(mine).to_contain_text(CORRECTED)
    expect(mine).to_contain_text("Wacht op het besluit van de voorzitter.")

    # The chair accepts it on the minutes page.
    chair = browse()
    log_in(chair, "Ilse Bakker")
    chair.goto(f"{portal.base_url}{MINUTES}")
    corrections = chair.get_by_role("region", name="Correcties")
    expect(corrections).to_contain_text(CORRECTED)
    expect(corrections).to_contain_text("Petra Mulder")
    corrections.get_by_role("button", name="Correctie accepteren").click()
    expect(chair.get_by_role("region", name="Aanwezigheid")).to_contain_text(CORRECTED)

    # The mother reads the outcome; then she adds her view to the opinion.
    mother.reload()
    expect(mother.get_by_role("region", name="Uw correcties")).to_contain_text(
        "Overgenomen: dit staat nu in het verslag.")
    shared = mother.get_by_role("region", name="Wat er is besproken en afgesproken")
    expect(shared).to_contain_text(CORRECTED)
    expect(shared.get_by_label("Wat moet er staan?")).to_have_count(1)  # the fact only
    shared.get_by_text("Uw eigen zienswijze bij deze mening toevoegen").click()
    shared.get_by_label("Uw zienswijze").fill(VIEW)
    shared.get_by_role("button", name="Mijn zienswijze toevoegen").click()
    expect(mother.get_by_role("status").filter(has_text="zienswijze")).to_be_visible()
    expect(mother.get_by_role("complementary", name="De zienswijze van de familie")) \
        .to_contain_text(VIEW)

    # The mentor sees the view next to the opinion on the minutes page.
    mentor = browse()
    log_in(mentor, "Mirjam de Vries")
    mentor.goto(f"{portal.base_url}{MINUTES}")
    opinion = mentor.get_by_role("region", name="Welbevinden")
    expect(opinion).to_contain_text(OPINION)
    statement = opinion.get_by_role("complementary", name="De zienswijze van de familie")
    expect(statement).to_contain_text(VIEW)
    expect(statement).to_contain_text(re.compile("Petra Mulder"))
