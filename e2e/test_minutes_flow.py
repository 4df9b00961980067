"""The MDO in a real browser: the chair schedules it, the minute-taker writes structured
minutes (autosaved), the chair approves, and each reader sees exactly their share.

Set-up that is not under test (youth care joining the case, the consents) goes
through the portal's own HTTP routes with the test client; what the issue asks
to see happens in Chromium, found by role and label as a screen reader would.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from e2e.pages import log_in
from e2e.test_consent import log_in_citizen
from portal.audit.models import AccessRecord
from portal.demo import DEMO_CASE, stable_id
from portal.localtime import LOCAL_TIME
from tests.consent.test_portal import JEUGDHULP, add_participant, give, record_signed
from tests.harness import PortalClient, Running

if TYPE_CHECKING:
    from e2e.conftest import Browse

SAM_CASE = stable_id("case", DEMO_CASE.key)
HET_BAKEN = f"org:{stable_id('org', 'het-baken')}"
HEALTH = "Astma; gebruikt een inhaler voor de gymles."
PROGRESS = "Sam leest inmiddels op niveau E5."
BEHAVIOUR = "Minder conflicten in de pauze."


def client(portal: Running, persona: str) -> PortalClient:
    http = portal.client()
    http.login(persona)
    return http


def youth_care_with_behaviour_only(portal: Running) -> None:
    """Youssef joins; both parents and Sam consent to behaviour for Jeugdhulp Noord only.
    Sam (13) also signs for the school, now that youth care takes part."""
    add_participant(portal, SAM_CASE, "Youssef El Amrani")
    for parent in ("ouder1", "ouder2"):
        give(client(portal, parent), SAM_CASE, ["behaviour"], [JEUGDHULP])
    chair = client(portal, "ib")
    record_signed(chair, SAM_CASE, "child", ["behaviour"], [JEUGDHULP])
    record_signed(chair, SAM_CASE, "child", ["school_progress", "behaviour"], [HET_BAKEN])


def new_section(page: Page, index: int) -> Locator:
    return page.get_by_role("group", name="Nieuw onderdeel", exact=True).nth(index)


def write_section(slot: Locator, heading: str, text: str, category: str, *,
                  shared: bool = False) -> None:
    slot.get_by_label("Kopje", exact=True).fill(heading)
    slot.get_by_label("Tekst", exact=True).fill(text)
    slot.get_by_role("checkbox", name=category, exact=True).check()
    if shared:
        slot.get_by_role("checkbox", name="Gedeeld met ouders (zodra vastgesteld)").check()


def records(portal: Running, persona: str, event_type: str) -> list[tuple[str, str | None]]:
    with portal.portal.sessions() as db:
        rows = db.scalars(select(AccessRecord).where(
            AccessRecord.user_id == stable_id("person", persona),
            AccessRecord.event_type == event_type).order_by(AccessRecord.seq)).all()
        return [(r.outcome, r.data_categories) for r in rows]


def test_the_whole_mdo_flow(browse: Browse, portal: Running) -> None:
    youth_care_with_behaviour_only(portal)

    # The chair schedules the MDO, inviting the youth-care worker and the family.
    chair = browse()
    log_in(chair, "Ilse Bakker").open_case(DEMO_CASE.title)
    chair.get_by_role("navigation", name="Onderdelen van deze casus") \
        .get_by_role("link", name="Overleggen").click()
    chair.get_by_role("link", name="Een MDO plannen").click()
    day = (portal.clock.now + timedelta(days=3)).astimezone(LOCAL_TIME).date()
    chair.get_by_label("Datum").fill(day.isoformat())
    chair.get_by_label("Begintijd (Nederlandse tijd)").fill("14:30")
    chair.get_by_label("Plaats of videolink").fill("Het Baken, kamer 2.14")
    invite = chair.get_by_role("group", name="Uitnodigen")
    expect(invite.get_by_role("checkbox", name="Youssef El Amrani")).to_be_checked()
    expect(invite.get_by_role("checkbox", name=re.compile("^Het gezin uitnodigen"))) \
        .to_be_checked()
    chair.get_by_label("Notulist").select_option(label="Mila Smit")
    # Nothing is pre-ticked: the chair chooses what the agenda holds.
    expect(chair.get_by_role("checkbox", name="Overig")).not_to_be_checked()
    chair.get_by_role("checkbox", name="Gedrag").check()
    chair.get_by_role("button", name="Plannen en uitnodigingen versturen").click()
    expect(chair).to_have_url(re.compile(r"/meetings/[0-9a-f-]{36}$"))
    meeting_url = chair.url

    # The minute-taker writes three sections; the editor autosaves an encrypted draft.
    writer = browse()
    log_in(writer, "Mila Smit")
    writer.goto(meeting_url)
    writer.get_by_role("link", name="Verslag", exact=True).click()
    writer.get_by_role("link", name="Verslag schrijven of bewerken").click()
    write_section(new_section(writer, 0), "Gezondheid", HEALTH, "Gezondheid")
    write_section(new_section(writer, 1), "Voortgang op school", PROGRESS, "Schoolvorderingen",
                  shared=True)
    write_section(new_section(writer, 2), "Gedrag", BEHAVIOUR, "Gedrag")
    expect(writer.get_by_role("status")).to_have_text(
        re.compile(r"Concept opgeslagen om \d\d:\d\d"), timeout=8_000)
    writer.get_by_role("button", name="Opslaan als nieuwe versie").click()
    expect(writer.get_by_text(PROGRESS)).to_be_visible()
    writer.get_by_role("button", name="Ter vaststelling indienen").click()
    expect(writer.get_by_text("ingediend ter vaststelling")).to_be_visible()

    # Health is outside the school's consent, even for the chair: she cannot approve
    # what she cannot read, and the page says which section blocks it.
    chair.goto(f"{meeting_url}/minutes")
    expect(chair.get_by_text(PROGRESS)).to_be_visible()
    expect(chair.get_by_text(HEALTH)).to_have_count(0)
    blocked = chair.get_by_role("status").filter(has_text="U kunt deze versie niet vaststellen")
    expect(blocked).to_contain_text("Onderdeel 1: Gezondheid")
    expect(chair.get_by_role("button", name="Versie 1 vaststellen")).to_have_count(0)
    # Once the parents and Sam consent to health for the school, she can.
    for parent in ("ouder1", "ouder2"):
        give(client(portal, parent), SAM_CASE, ["health"], [HET_BAKEN])
    record_signed(client(portal, "ib"), SAM_CASE, "child", ["health"], [HET_BAKEN])
    chair.reload()
    expect(chair.get_by_text(HEALTH)).to_be_visible()
    chair.get_by_role("button", name="Versie 1 vaststellen").click()
    expect(chair.get_by_text(re.compile("vastgesteld door Ilse Bakker"))).to_be_visible()
    # The case's meetings tab follows the minutes: approved now.
    chair.goto(f"/cases/{SAM_CASE}/meetings")
    expect(chair.get_by_role("region", name="Overleggen").get_by_text("verslag vastgesteld")) \
        .not_to_have_count(0)

    # The youth-care worker, behaviour only: neither health nor school progress.
    worker = browse()
    log_in(worker, "Youssef El Amrani")
    worker.goto(f"{meeting_url}/minutes")
    expect(worker.get_by_role("region", name="Gedrag")).to_contain_text(BEHAVIOUR)
    expect(worker.get_by_text("2 onderdelen vallen buiten uw toestemming")).to_be_visible()
    expect(worker.get_by_text(HEALTH)).to_have_count(0)
    expect(worker.get_by_text(PROGRESS)).to_have_count(0)
    expect(worker.get_by_text("Gezondheid", exact=True)).to_have_count(0)

    # The parent sees only the section shared with parents.
    mother = browse()
    home = log_in_citizen(mother, "Petra Mulder")
    home.child("Sam Mulder").get_by_role("link", name=DEMO_CASE.title).click()
    shared = mother.get_by_role("region", name="Wat er is besproken en afgesproken")
    expect(shared).to_contain_text(PROGRESS)
    expect(shared).not_to_contain_text(BEHAVIOUR)
    expect(shared).not_to_contain_text(HEALTH)

    # Every read left its record, one per section decision, allowed and denied.
    assert records(portal, "jeugdhulp", "minutes.view.section") == [
        ("denied", "health"), ("denied", "school_progress"), ("allowed", "behaviour")]
    assert records(portal, "jeugdhulp", "minutes.view") == [("allowed", None)]
    assert records(portal, "ouder1", "minutes.family.section") == [
        ("denied", "health"), ("allowed", "school_progress"), ("denied", "behaviour")]
    chair_reads = records(portal, "ib", "minutes.view.section")
    assert ("denied", "health") in chair_reads and ("allowed", "school_progress") in chair_reads
    writer_reads = records(portal, "notulist", "minutes.view.section")
    assert len(writer_reads) >= 3
