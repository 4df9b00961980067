"""The FG's register of processing and the families' privacy page, in a real browser (CSP on).

The school leader of Het Baken is made the school's FG after logging in (a login
makes the memberships what the dev IdP's claims say).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import delete

from e2e.pages import LoginPage, log_in
from portal.demo import stable_id
from portal.people.models import Membership, Role
from tests.harness import Running

if TYPE_CHECKING:
    from e2e.conftest import Browse

BAKEN = stable_id("org", "het-baken")
DPIA = "DPIA-2026-07"


def test_the_schools_fg_fills_in_and_downloads_the_register(browse: Browse,
                                                            portal: Running) -> None:
    page = browse()
    log_in(page, "Lars Jansen")
    with portal.portal.sessions.begin() as db:
        person = stable_id("person", "schoolleider")
        db.execute(delete(Membership).where(Membership.person_id == person))
        db.add(Membership(person_id=person, organisation_id=BAKEN, role=Role.DPO))
    page.goto("/")
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role(
        "link", name="Register van verwerkingen").click()
    expect(page.get_by_role("heading", level=1, name=
                            "Register van verwerkingen: Scholengemeenschap Het Baken")
           ).to_be_visible()
    expect(page.get_by_text("Versie 1,")).to_be_visible()
    page.get_by_label("Kenmerk van de DPIA").fill(DPIA)
    page.get_by_label("Verwerkersovereenkomsten").fill("Hosting B.V., getekend 12-01-2026")
    page.get_by_role("button", name="Opslaan als nieuwe versie").click()
    expect(page.get_by_text("Versie 2,")).to_be_visible()
    expect(page.get_by_label("Kenmerk van de DPIA")).to_have_value(DPIA)

    with page.expect_download() as started:
        page.get_by_role("link", name="Downloaden als PDF").click()
    download = started.value
    assert download.suggested_filename == "verwerkingsregister-v2.pdf"
    reader = PdfReader(io.BytesIO(Path(download.path()).read_bytes()))
    text = "".join(p.extract_text() for p in reader.pages)
    assert DPIA in text and "Scholengemeenschap Het Baken" in text


def test_a_parent_finds_the_privacy_page_in_both_languages(browse: Browse) -> None:
    page = browse()
    LoginPage(page).open().choose_demo_login().persona("Petra Mulder").click()
    page.get_by_role("link", name="Privacy: wat het portaal over uw kind bewaart").click()
    expect(page.get_by_role("heading", level=1, name=
                            "Privacy: wat het MDO-portaal bewaart over uw kind")).to_be_visible()
    page.get_by_role("link", name="Direct naar uw rechten").click()
    expect(page.get_by_role("heading", name="Uw rechten, en hoe u ze gebruikt")).to_be_visible()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1, name=
                            "Privacy: what the MDO portal keeps about your child")).to_be_visible()
    expect(page.get_by_role("heading", name="Your rights, and how to use them")).to_be_visible()
