"""Minutes and attachments in a real browser: the plain forms, the streaming upload, downloads."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import expect

from e2e.pages import disclosure, log_in, open_disclosure
from portal.demo import DEMO_CASE, stable_id
from tests.harness import Running

if TYPE_CHECKING:
    from e2e.conftest import Browse

CASE_PATH = f"/cases/{stable_id('case', DEMO_CASE.key)}"


def test_upload_and_download_an_attachment(browse: Browse, portal: Running,
                                           tmp_path: Path) -> None:
    page = browse()
    log_in(page, "Ilse Bakker")
    page.goto(CASE_PATH)
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


def test_write_and_revise_minutes(browse: Browse, portal: Running) -> None:
    page = browse()
    log_in(page, "Mila Smit")
    page.goto(CASE_PATH)
    page.get_by_role("link", name="Verslag schrijven").click()
    page.get_by_label("Titel").fill("MDO 3 december")
    page.get_by_label("Schoolvorderingen").check()
    page.get_by_label("Verslag", exact=True).fill("# Afspraken\n- mentor belt de ouders")
    page.get_by_role("button", name="Verslag opslaan").click()
    expect(page.get_by_role("heading", level=3, name="Afspraken")).to_be_visible()
    minutes = page.get_by_role("article", name="Verslag")
    expect(minutes.get_by_role("listitem")).to_have_text("mentor belt de ouders")

    page.get_by_role("textbox", name="Verslag").fill("Alles besproken.")
    page.get_by_role("button", name="Opslaan als nieuwe versie").click()
    expect(minutes).to_have_text("Alles besproken.")
    expect(page.get_by_role("link", name="versie 1")).to_be_visible()
