"""The staff lifecycle in a real browser: choosing a capacity (htmx) and appointing a chair."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playwright.sync_api import expect
from sqlalchemy import select

from e2e.pages import CasePage, log_in
from portal.cases.models import CaseParticipant
from portal.demo import stable_id
from portal.people.models import Membership, Role
from tests.cases.test_flow import create_case
from tests.harness import Running

if TYPE_CHECKING:
    from e2e.conftest import Browse

WORKER = stable_id("person", "jeugdhulp")
BAKEN = stable_id("org", "het-baken")
NOORD = stable_id("org", "jeugdhulp-noord")
TITLE = "MDO Sam gedrag"


def test_a_participant_switches_capacity_without_a_reload(browse: Browse,
                                                          portal: Running) -> None:
    page = browse()
    log_in(page, "Youssef El Amrani")
    with portal.portal.sessions() as db, db.begin():
        db.add(Membership(person_id=WORKER, organisation_id=BAKEN,
                          role=Role.SCHOOL_SOCIAL_WORKER))
    case_id = create_case(portal, persona="ib", title=TITLE)
    ib = portal.client()
    ib.login("ib")
    ib.page(f"/cases/{case_id}")
    ib.submit(f"/cases/{case_id}/participants",
              {"person_id": f"{WORKER}|{BAKEN}|school_social_worker",
               "case_role": "participant", "confirm": "1"})

    page.goto(f"/cases/{case_id}")
    case = CasePage(page).wait(TITLE)
    expect(case.participant("Youssef El Amrani")).to_contain_text("Schoolmaatschappelijk werker")
    page.evaluate("() => { window.__noReload = 'still here' }")
    capacity = case.participants.get_by_label("U neemt aan deze casus deel als")
    capacity.select_option(label="Jeugdhulp Noord — Jeugdhulpverlener")
    case.participants.get_by_role("button", name="Hoedanigheid opslaan").click()
    expect(case.participants.get_by_role("status")).to_have_text("Hoedanigheid opgeslagen.")
    expect(case.participant("Youssef El Amrani")).to_contain_text("Jeugdhulpverlener")
    assert page.evaluate("() => window.__noReload") == "still here"
    with portal.portal.sessions() as db:
        row = db.scalars(select(CaseParticipant).where(
            CaseParticipant.case_id == case_id, CaseParticipant.person_id == WORKER)).one()
    assert (row.organisation_id, row.capacity_role) == (NOORD, "youth_care_worker")


def test_the_care_coordinator_appoints_a_chair_by_keyboard(browse: Browse,
                                                           portal: Running) -> None:
    case_id = create_case(portal, persona="mentor", title=TITLE)
    admin = portal.client()
    admin.login("beheerder")
    admin.page("/admin")
    admin.submit(f"/admin/people/{stable_id('person', 'mentor')}/active",
                 {"active": "0", "confirm": "1"})

    page = browse()
    log_in(page, "Ilse Bakker")
    page.goto(f"/cases/{case_id}/chair")
    expect(page.get_by_role("heading", level=1, name="Voorzitter aanwijzen")).to_be_visible()
    expect(page.get_by_text("Mirjam de Vries neemt niet meer deel")).to_be_visible()
    chooser = page.get_by_label("Nieuwe voorzitter")
    chooser.focus()
    chooser.select_option(label="Lars Jansen (Schoolleider)")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Aanwijzen als voorzitter")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("De voorzitter is Lars Jansen.")).to_be_visible()
