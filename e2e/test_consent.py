"""Consent in a real browser: the parent gives and withdraws it, the youth-care worker's
access follows, a foster parent sees nothing, and an anonymous case refuses a BSN.

Set-up that is not under test (participants, the other consents, the minutes)
goes through the portal's own HTTP routes with the test client; what the issue
asks to see happens in Chromium, found by role and label as a screen reader would.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from playwright.sync_api import Locator, Page, expect

from e2e.pages import CaseListPage, ErrorPage, KeyboardUser, LoginPage, log_in
from portal.demo import DEMO_CASE, stable_id
from tests.documents.helpers import upload_new
from tests.harness import PortalClient, Running

if TYPE_CHECKING:
    from e2e.conftest import Browse

SAM_CASE = stable_id("case", DEMO_CASE.key)
NOOR_CASE = stable_id("case", "noor-mdo")
JEUGDHULP = f"org:{stable_id('org', 'jeugdhulp-noord')}"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class FamilyHome:
    """A parent's (or pupil's) start page after logging in."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def wait(self, name: str) -> FamilyHome:
        expect(self.page).to_have_url(re.compile(r"/family$"))
        expect(self.page.get_by_role("heading", level=1, name=f"Welkom, {name}")).to_be_visible()
        return self

    def child(self, name: str) -> Locator:
        return self.page.get_by_role("region", name=name)


class FamilyCasePage:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.give = page.get_by_role("region", name="Toestemming geven")
        self.consents = page.get_by_role("region", name="Toestemmingen")
        self.status = page.get_by_role("status")

    def give_consent(self, categories: list[str], recipients: list[str]) -> None:
        for label in categories + recipients:
            self.give.get_by_role("checkbox", name=label, exact=True).check()
        self.give.get_by_role("button", name="Toestemming geven").click()

    def withdraw_mine(self) -> None:
        self.consents.get_by_role("link", name=re.compile("^Intrekken")).first.click()
        expect(self.page.get_by_role("heading", level=1, name="Toestemming intrekken")) \
            .to_be_visible()
        self.page.get_by_role("button", name="Ja, trek mijn toestemming in").click()


def log_in_citizen(page: Page, persona: str) -> FamilyHome:
    LoginPage(page).open().choose_demo_login().persona(persona).click()
    return FamilyHome(page).wait(persona)


def http_client(portal: Running, persona: str) -> PortalClient:
    client = portal.client()
    client.login(persona)
    return client


def post_form(client: PortalClient, path: str, pairs: list[tuple[str, str]]) -> None:
    """A form with repeated fields (checkboxes), after loading its page for the token."""
    client.page(path)
    response = client.post(path, content=urlencode([("csrf_token", client.csrf), *pairs]
                                                    ).encode(), headers=FORM)
    assert response.status_code == 200, response.text[response.text.find("<main"):][:1500]


def prepare_sams_case(portal: Running) -> tuple[str, str]:
    """Youth care joins; Sam and his father consent to behaviour; two minutes are written."""
    chair = http_client(portal, "ib")
    case = chair.page(f"/cases/{SAM_CASE}")
    youssef = re.search(r'<option value="([0-9a-f-]{36})">Youssef El Amrani', case.text)
    assert youssef
    chair.submit(f"/cases/{SAM_CASE}/participants",
                 {"person_id": youssef.group(1), "case_role": "participant", "confirm": "1"})
    post_form(chair, f"/cases/{SAM_CASE}/consent", [
        ("consenter", "child"), ("category", "behaviour"), ("recipient", JEUGDHULP),
        ("valid_until", ""), ("form_seen", "on")])
    father = http_client(portal, "ouder2")
    father.page(f"/family/cases/{SAM_CASE}")
    response = father.post(f"/family/cases/{SAM_CASE}/consents", content=urlencode([
        ("csrf_token", father.csrf), ("category", "behaviour"), ("recipient", JEUGDHULP),
        ("valid_until", "")]).encode(), headers=FORM)
    assert "Uw toestemming is vastgelegd" in response.text
    urls = []
    # Minutes written elsewhere, uploaded as files. Now that youth care takes part,
    # Sam's own consent is needed for the school too, so even the chair may not read
    # back what they uploaded: the new document is found in the database.
    for title, category in (("Gedrag in de klas (e2e)", "behaviour"),
                            ("Medische achtergrond (e2e)", "health")):
        document_id = upload_new(portal, chair, f"Besproken: {title}.\n".encode(),
                                 f"{title}.txt", kind="minutes", categories=(category,),
                                 case_id=SAM_CASE)
        urls.append(f"/cases/{SAM_CASE}/documents/{document_id}")
    return urls[0], urls[1]


def test_parent_consents_then_withdraws_and_the_worker_follows(
        browse: Browse, portal: Running) -> None:
    behaviour_url, health_url = prepare_sams_case(portal)

    mother = browse()
    home = log_in_citizen(mother, "Petra Mulder")
    home.child("Sam Mulder").get_by_role("link", name=DEMO_CASE.title).click()
    family_case = FamilyCasePage(mother)
    family_case.give_consent(["Gedrag"], ["Jeugdhulp Noord"])
    expect(family_case.status).to_have_text("Uw toestemming is vastgelegd.")
    # The drawn status now shows her consent for behaviour, for Jeugdhulp Noord.
    grid = mother.get_by_role("table", name="Gedeeld met Jeugdhulp Noord")
    expect(grid.get_by_role("row", name=re.compile("^Petra Mulder"))
           .get_by_role("cell").nth(1)).to_have_text(re.compile("toestemming gegeven"))

    worker = browse()
    cases = log_in(worker, "Youssef El Amrani")
    cases.open_case(DEMO_CASE.title)
    worker.get_by_role("navigation", name="Onderdelen van deze casus") \
        .get_by_role("link", name="Verslagen en documenten").click()
    documents = worker.get_by_role("region", name="Verslagen en bijlagen")
    behaviour = documents.get_by_role("link", name="Gedrag in de klas (e2e).txt", exact=True)
    expect(behaviour).to_be_visible()
    expect(documents.get_by_text("Medische achtergrond (e2e)")).to_have_count(0)
    behaviour.click()
    expect(worker.get_by_role("heading", level=1)).to_have_text("Gedrag in de klas (e2e).txt")
    expect(worker.get_by_role("link", name="Downloaden")).to_be_visible()
    worker.goto(health_url)
    expect(worker.get_by_role("heading", level=1, name="Niet toegestaan")).to_be_visible()

    family_case.withdraw_mine()
    expect(FamilyCasePage(mother).status).to_have_text(
        "Uw toestemming is ingetrokken. Dat geldt vanaf nu.")
    worker.goto(behaviour_url)
    expect(worker.get_by_role("heading", level=1, name="Niet toegestaan")).to_be_visible()


def test_a_foster_parent_sees_nothing(browse: Browse) -> None:
    page = browse()
    home = log_in_citizen(page, "Gerda Kok")
    expect(home.child("Noor Haddad")).to_contain_text(
        "Er wordt geen informatie over dit kind met u gedeeld.")
    expect(home.child("Noor Haddad").get_by_role("link")).to_have_count(0)
    page.goto(f"/family/cases/{NOOR_CASE}")
    expect(ErrorPage(page).not_found).to_be_visible()
    expect(page.get_by_text("verzuim")).to_have_count(0)


def test_the_identifier_check_blocks_a_bsn_in_an_anonymous_case(browse: Browse) -> None:
    page = browse()
    new_case = log_in(page, "Mirjam de Vries").start_new_case()
    new_case.anonymous.check()
    new_case.title.fill("Leerling uit groep 7")
    new_case.purpose.fill("Zorgen over thuis; BSN 123456782 staat in het dossier.")
    new_case.submit.click()
    alert = page.get_by_role("alert").filter(has_text="De controle vond")
    expect(alert).to_contain_text("“123456782”: een burgerservicenummer (BSN)")
    expect(page.get_by_role("checkbox", name=re.compile("vals alarm"))).not_to_be_checked()
    CaseListPage(page).open()
    expect(page.get_by_role("link", name="Leerling uit groep 7")).to_have_count(0)


def test_the_signed_form_opens_from_its_button_and_a_refusal_leads_to_the_field(
        portal_page: Page) -> None:
    """The chair's "record a signed form" is closed until asked for; refused, it comes
    back open, focus on the error summary, whose entries reach the fields by keyboard."""
    page = portal_page
    keys = KeyboardUser(page)
    log_in(page, "Ilse Bakker")
    page.goto(f"/cases/{SAM_CASE}/consent")
    opener = page.locator("summary", has_text="Een ondertekend toestemmingsformulier vastleggen")
    seen = page.get_by_role("checkbox",
                            name="Ik heb het ondertekende toestemmingsformulier gezien")
    expect(seen).to_be_hidden()
    keys.tab_to(opener, max_stops=80)
    keys.press("Enter")
    expect(seen).to_be_visible()
    keys.tab_to(page.get_by_role("button", name="Toestemming vastleggen"), max_stops=40)
    keys.press("Enter")  # nothing chosen, the form not confirmed

    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile("^Fout: "))
    expect(seen).to_be_visible()  # open again, what was chosen kept
    entry = summary.get_by_role("link",
                                name="Bevestig dat u het ondertekende formulier hebt gezien.")
    keys.tab_to(entry, max_stops=10)
    keys.press("Enter")
    expect(seen).to_be_focused()
    expect(seen).to_have_attribute("aria-invalid", "true")
