"""Minutes and attachments in a real browser: the plain forms, the streaming upload, downloads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import expect

from e2e.pages import disclosure, log_in, open_disclosure
from portal.demo import DEMO_CASE, stable_id
from tests.documents.helpers import legacy_minutes
from tests.harness import Running

if TYPE_CHECKING:
    from e2e.conftest import Browse

SAM_CASE = stable_id("case", DEMO_CASE.key)
CASE_PATH = f"/cases/{SAM_CASE}"


def test_upload_and_download_an_attachment(browse: Browse, portal: Running,
                                           tmp_path: Path) -> None:
    page = browse()
    log_in(page, "Ilse Bakker")
    page.goto(f"{CASE_PATH}/documents")
    section = page.get_by_role("region", name="Verslagen en bijlagen")
    expect(section).to_contain_text("Nog geen verslagen of bijlagen.")
    report = tmp_path / "Verslag gesprek – Sam.txt"
    report.write_text("Gesprek met Sam over de werkhouding.\n" * 5000, encoding="utf-8")

    # The browser sends the hidden CSRF field before the file, as the form lists it.
    open_disclosure(disclosure(section, "Een bestand uploaden"))
    section.get_by_label("Gedrag").check()
    section.get_by_label("Bestand", exact=True).set_input_files(report)
    section.get_by_role("button", name="Uploaden").click()
    link = section.get_by_role("link", name="Verslag gesprek – Sam.txt", exact=True)
    expect(link).to_be_visible()

    with page.expect_download() as started:
        section.get_by_role("link", name="downloaden Verslag gesprek – Sam.txt").click()
    download = started.value
    assert download.suggested_filename == "Verslag gesprek – Sam.txt"
    assert Path(download.path()).read_bytes() == report.read_bytes()


def test_revise_older_free_text_minutes(browse: Browse, portal: Running) -> None:
    """Free-text minutes are no longer written here (minutes are written per meeting);
    older ones are still read and revised."""
    document_id = legacy_minutes(portal, "notulist", "MDO 3 december",
                                 "# Afspraken\n- mentor belt de ouders",
                                 categories=("school_progress",), case_id=SAM_CASE)
    page = browse()
    log_in(page, "Mila Smit")
    page.goto(f"{CASE_PATH}/documents")
    expect(page.get_by_role("link", name="Verslag schrijven")).to_have_count(0)
    page.get_by_role("region", name="Verslagen en bijlagen") \
        .get_by_role("link", name="MDO 3 december").click()
    expect(page).to_have_url(re.compile(f"/documents/{document_id}$"))
    expect(page.get_by_role("heading", level=3, name="Afspraken")).to_be_visible()
    minutes = page.get_by_role("article", name="Verslag")
    expect(minutes.get_by_role("listitem")).to_have_text("mentor belt de ouders")

    page.get_by_role("textbox", name="Verslag").fill("Alles besproken.")
    page.get_by_role("button", name="Opslaan als nieuwe versie").click()
    expect(minutes).to_have_text("Alles besproken.")
    expect(page.get_by_role("link", name="versie 1")).to_be_visible()
