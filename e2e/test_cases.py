"""A case from creation to who may see it, in a real browser with htmx."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.sync_api import Page, expect
from sqlalchemy import select

from e2e.pages import CasePage, ErrorPage, log_in
from portal.cases.models import CaseParticipant, CaseRole
from portal.demo import DEMO_CASE
from portal.people.models import Person
from tests.harness import Running

if TYPE_CHECKING:
    from e2e.conftest import Browse

CHILD = "Sam Mulder"
TITLE = "Zorgen om verzuim Sam (e2e)"
PURPOSE = "Sam verzuimt veel; samen met jeugdhulp een plan maken voor de begeleiding."


def create_case_as_mentor(page: Page) -> CasePage:
    cases = log_in(page, "Mirjam de Vries")
    return cases.start_new_case().create(child=CHILD, title=TITLE, purpose=PURPOSE)


def test_mentor_creates_case_and_adds_youth_care_worker_with_htmx(
        browse: Browse, portal: Running) -> None:
    page = browse()
    case = create_case_as_mentor(page)
    case_url = page.url
    expect(case.fact("Kind")).to_contain_text(CHILD)
    expect(case.fact("Doel")).to_have_text(PURPOSE)
    expect(case.fact("Grondslag")).to_have_text("Toestemming")
    expect(case.participant("Mirjam de Vries")).to_contain_text("voorzitter")
    expect(case.participant("Youssef El Amrani")).to_have_count(0)

    # A full page load would wipe this marker; an htmx swap keeps it.
    page.evaluate("() => { window.__noReload = 'still here' }")
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith("/participants")) as posted:
        case.add_participant("Youssef El Amrani", role="deelnemer")
    response = posted.value
    assert response.status == 200
    assert response.request.header_value("hx-request") == "true"
    assert response.request.header_value("x-csrf-token")

    expect(case.participant("Youssef El Amrani")).to_contain_text("Jeugdhulp Noord")
    expect(case.participant("Youssef El Amrani")).to_contain_text("deelnemer")
    assert page.url == case_url
    assert page.evaluate("() => window.__noReload") == "still here"
    # The swapped-in form no longer offers him.
    expect(case.professional.get_by_role("option", name=re.compile("^Youssef El Amrani")))\
        .to_have_count(0)
    expect(case.heading(TITLE)).to_have_count(1)  # swapped the section, not nested the page

    case_id = case_url.rsplit("/", 1)[1]
    with portal.portal.sessions() as db:
        roles = dict(db.execute(
            select(Person.display_name, CaseParticipant.case_role)
            .join(Person, Person.id == CaseParticipant.person_id)
            .where(CaseParticipant.case_id == case_id)).all())
    assert roles == {"Mirjam de Vries": CaseRole.CHAIR,
                     "Youssef El Amrani": CaseRole.PARTICIPANT}


def test_participant_sees_the_case_and_an_outsider_gets_not_found(browse: Browse) -> None:
    mentor = browse()
    case = create_case_as_mentor(mentor)
    case.add_participant("Youssef El Amrani")
    expect(case.participant("Youssef El Amrani")).to_be_visible()
    case_url = mentor.url

    youssef = browse()  # a separate browser context: his own cookies
    cases = log_in(youssef, "Youssef El Amrani")
    expect(cases.case_link(TITLE)).to_be_visible()
    expect(cases.table.get_by_role("row").filter(has_text=TITLE)).to_contain_text("deelnemer")
    seen = cases.open_case(TITLE)
    assert youssef.url == case_url
    expect(seen.fact("Kind")).to_contain_text(CHILD)
    expect(seen.fact("Doel")).to_have_text(PURPOSE)
    # A participant, not the chair: no management form.
    expect(seen.add_button).to_have_count(0)

    olga = browse()
    outsider_cases = log_in(olga, "Olga Peters")
    expect(outsider_cases.case_link(TITLE)).to_have_count(0)
    response = olga.goto(case_url)
    assert response is not None
    assert response.status == 404
    expect(ErrorPage(olga).not_found).to_be_visible()
    html = olga.content()
    for secret in (TITLE, PURPOSE, CHILD, "Sam", "Mirjam de Vries", "Youssef El Amrani",
                   "Deelnemers"):
        assert secret not in html, f"{secret!r} leaked into the outsider's 404 page"
    # The same answer as for a case that does not exist at all.
    missing = olga.goto("/cases/00000000-0000-4000-8000-000000000000")
    assert missing is not None
    assert missing.status == 404
    expect(ErrorPage(olga).not_found).to_be_visible()


def test_the_case_header_says_at_a_glance_whether_consent_is_in_order(
        browse: Browse) -> None:
    page = browse()
    demo = log_in(page, "Ilse Bakker").open_case(DEMO_CASE.title)
    expect(demo.fact("Status")).to_have_text("open")
    expect(demo.fact("Grondslag")).to_have_text("Toestemming")
    expect(demo.fact("Toestemming")).to_have_text("nog nodig van 2 personen")  # both parents

