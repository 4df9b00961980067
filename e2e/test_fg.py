"""The FG's register of processing and the families' privacy page, in a real browser (CSP on).

The school leader of Het Baken is made the school's FG after logging in (a login
makes the memberships what the dev IdP's claims say).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import delete

from e2e.pages import Header, LoginPage, log_in
from portal.audit.service import Requester, record
from portal.demo import DEMO_CASE, stable_id
from portal.people.models import Membership, Role
from portal.policy import Allow
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


def test_the_fg_finds_a_child_by_name_reads_the_log_and_exports_it(
        browse: Browse, portal: Running) -> None:
    """The FG's journey: a child by name (never by pasting an id), its log, its export.
    Keyboard only from the search field on."""
    sam, noor = stable_id("child", "sam"), stable_id("child", "noor")
    who = Requester(user_id=stable_id("person", "ib"), user_name="Ilse Bakker",
                    user_role="care_coordinator", organisation_id=BAKEN, session_ref="x",
                    client_address="127.0.0.1")
    with portal.portal.sessions.begin() as db:
        for child, case_key in ((sam, DEMO_CASE.key), (noor, "noor-mdo")):
            record(db, who, portal.clock.now, event_type="item.read", action="read",
                   decision=Allow(basis="participant"), case_id=stable_id("case", case_key),
                   child_id=child, data_categories=["behaviour"])
    page = browse()
    LoginPage(page).open().choose_demo_login().persona("Fenna Gerritsen").click()
    Header(page).menu.get_by_role("link", name="Inzagelog").click()
    page.get_by_label("Kind (naam of id)").fill("Sam")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/audit\?.*child=Sam"))
    table = page.get_by_role("table", name="Inzagevastleggingen")
    expect(table.get_by_role("link", name=sam[:8]).first).to_be_visible()
    expect(table.get_by_role("link", name=noor[:8])).to_have_count(0)

    export = page.get_by_role("link", name="Exporteren als CSV")
    export.focus()
    with page.expect_download() as started:
        page.keyboard.press("Enter")
    rows = list(csv.DictReader(io.StringIO(
        Path(started.value.path()).read_text(encoding="utf-8"))))
    assert rows and {row["child_id"] for row in rows} == {sam}
