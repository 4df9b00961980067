"""A parent files an inspection request in a real browser; the FG releases the copy and
decides; the parent reads the decision and downloads the copy (PDF and JSON).

Found by role and label as a screen reader would; the page guard fails the
test on any CSP violation or script error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from fhir.resources.R4B.consent import Consent
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from e2e.pages import LoginPage
from portal.demo import DEMO_CASE
from tests.harness import Running

if TYPE_CHECKING:
    from e2e.conftest import Browse

WISH = "Ik wil graag alles inzien wat over Sam is vastgelegd."
REASONS = "U kunt de kopie hier in het portaal downloaden; namen van derden zijn weggelaten."


class FamilyRequests:
    def __init__(self, page: Page) -> None:
        self.page = page

    def open_from_home(self) -> FamilyRequests:
        self.page.get_by_role("link", name="Uw verzoeken: inzage, correctie, verwijdering "
                                           "en uw andere rechten").click()
        expect(self.page.get_by_role("heading", level=1, name="Uw verzoeken")).to_be_visible()
        return self

    def file_inspection(self, child: str, explanation: str) -> None:
        self.page.get_by_role("link", name="Een verzoek doen").click()
        expect(self.page.get_by_role("heading", level=1, name="Een verzoek doen")).to_be_visible()
        self.page.get_by_label("Over", exact=True).select_option(label=child)
        self.page.get_by_role("radio", name="Inzage en een kopie").check()
        self.page.get_by_label("Licht uw verzoek toe (niet verplicht)").fill(explanation)
        self.page.get_by_role("button", name="Verzoek versturen").click()
        expect(self.page.get_by_role("status")).to_contain_text("Uw verzoek is ontvangen")


class RequestDesk:
    def __init__(self, page: Page) -> None:
        self.page = page

    def open_from_start(self) -> RequestDesk:
        region = self.page.get_by_role("region", name="Verzoeken van betrokkenen")
        region.get_by_role("link", name="1 verzoek wacht op antwoord").click()
        expect(self.page.get_by_role("heading", level=1, name="Verzoeken van betrokkenen")) \
            .to_be_visible()
        return self

    def open_request(self, kind: str) -> None:
        self.page.get_by_role("link", name=kind).click()
        expect(self.page.get_by_role("heading", level=1, name=kind)).to_be_visible()
        expect(self.page.get_by_text(WISH)).to_be_visible()

    def review_and_release_copy(self, expected: str) -> None:
        self.page.get_by_role("button", name="De kopie samenstellen").click()
        expect(self.page.get_by_role("heading", level=1, name="De kopie controleren")) \
            .to_be_visible()
        expect(self.page.get_by_text(expected).first).to_be_visible()
        self.page.get_by_role("button", name="Vrijgeven aan de verzoeker").click()
        expect(self.page.get_by_role("status")).to_contain_text("De kopie is vrijgegeven")

    def decide(self, outcome: str, reasons: str) -> None:
        self.page.get_by_role("radio", name=outcome, exact=True).check()
        self.page.get_by_label("Motivering (de verzoeker leest deze)").fill(reasons)
        self.page.get_by_role("button", name="Besluit vastleggen").click()
        expect(self.page.get_by_role("status")).to_contain_text("Het besluit is vastgelegd")


def test_a_parent_files_an_inspection_request_and_the_fg_decides(browse: Browse,
                                                                 portal: Running) -> None:
    mother = browse()
    LoginPage(mother).open().choose_demo_login().persona("Petra Mulder").click()
    requests = FamilyRequests(mother).open_from_home()
    requests.file_inspection("Sam Mulder", WISH)
    expect(mother.get_by_text("Ontvangen", exact=True)).to_be_visible()
    request_url = mother.url

    fg = browse()
    LoginPage(fg).open().choose_demo_login().persona("Fenna Gerritsen").click()
    expect(fg.get_by_role("button", name="Uitloggen")).to_be_visible()
    desk = RequestDesk(fg).open_from_start()
    desk.open_request("Inzage en een kopie")
    desk.review_and_release_copy(DEMO_CASE.title)
    desk.decide("Toegewezen", REASONS)

    mother.goto(request_url)
    expect(mother.get_by_role("heading", level=2, name="Besluit: Toegewezen")).to_be_visible()
    expect(mother.get_by_text(REASONS)).to_be_visible()
    copy = mother.get_by_role("region", name="Uw kopie")
    with mother.expect_download() as pdf_download:
        copy.get_by_role("link", name="Downloaden als pdf").click()
    pdf = PdfReader(pdf_download.value.path())
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert "Inzage in de gegevens over Sam Mulder" in text
    with mother.expect_download() as json_download:
        copy.get_by_role("link", name="Downloaden als JSON (machineleesbaar)").click()
    content = json.loads(Path(json_download.value.path()).read_text(encoding="utf-8"))
    assert content["format"] == "mdo-portaal-inzage/1"
    assert [case["title"] for case in content["cases"]] == [DEMO_CASE.title]
    consents = [Consent.model_validate(resource) for resource in content["consents_fhir"]]
    assert consents and all(c.status in ("active", "proposed", "inactive") for c in consents)
    history = mother.get_by_role("region", name="Verloop")
    expect(history).to_contain_text("Verzoek ingediend in het portaal")
    expect(history).to_contain_text("Besluit")
