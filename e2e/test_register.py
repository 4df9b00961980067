"""The register in a real browser: the import form by keyboard, in Dutch, with errors named."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import expect

from e2e.pages import log_in
from tests.harness import Running
from tests.register.helpers import csv_bytes, pupil

if TYPE_CHECKING:
    from e2e.conftest import Browse

PARENT = ("Anna Jansen", "anna.jansen@example.nl", "ouder", "ja")


def test_import_a_file_fix_a_refused_row_and_add_an_adult(browse: Browse, portal: Running,
                                                          tmp_path: Path) -> None:
    page = browse()
    log_in(page, "Ilse Bakker")
    page.get_by_role("link", name="Leerlingregister").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Leerlingregister van Scholengemeenschap Het Baken")

    bad = tmp_path / "leerlingen.csv"
    bad.write_bytes(csv_bytes([pupil("501", "Eva Jansen", "03-05-2015", "5a", PARENT),
                               pupil("502", "Finn Jansen", "31-02-2017", "3b", PARENT)],
                              bom=True))
    page.get_by_label("CSV-bestand").set_input_files(bad)
    page.get_by_role("button", name="Bestand controleren (proefimport)").focus()
    page.keyboard.press("Enter")
    refused = page.get_by_role("table", name="Geweigerde rijen")
    expect(refused.get_by_role("row").nth(1)).to_have_text(
        "3geboortedatumOnmogelijke datum: schrijf dd-mm-jjjj of jjjj-mm-dd.")
    expect(page.get_by_role("button", name="Nu importeren")).to_have_count(0)

    good = tmp_path / "leerlingen-verbeterd.csv"
    good.write_bytes(csv_bytes([pupil("501", "Eva Jansen", "03-05-2015", "5a", PARENT),
                                pupil("502", "Finn Jansen", "28-02-2017", "3b", PARENT)]))
    # Back to the form by the page's own link (history navigation after a POST
    # re-submits or waits on the browser cache, neither of which this test is about).
    page.get_by_role("link", name="Terug naar het leerlingregister").click()
    page.get_by_label("CSV-bestand").set_input_files(good)
    page.get_by_role("button", name="Bestand controleren (proefimport)").click()
    expect(page.get_by_role("status")).to_contain_text("2 toe te voegen")
    page.get_by_role("button", name="Nu importeren").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(
        "Import klaar: 2 toegevoegd, 0 bijgewerkt, 0 ongewijzigd.")

    page.get_by_role("link", name="Finn Jansen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Finn Jansen")
    expect(page.get_by_role("listitem").filter(has_text="Anna Jansen")).to_contain_text(
        "ouder met gezag")
    page.get_by_label("Naam", exact=True).last.fill("Bram Jansen")
    page.get_by_label("E-mailadres").fill("bram@")
    page.get_by_label("Relatie").select_option("ouder")
    page.get_by_label("Gezag (ouders)").select_option("nee")
    page.get_by_role("button", name="Volwassene toevoegen").click()
    email = page.get_by_label("E-mailadres")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#verzorger1_email-error")).to_have_text("Ongeldig e-mailadres.")
    expect(page.get_by_label("Naam", exact=True).last).to_have_value("Bram Jansen")
