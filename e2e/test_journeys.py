"""Four people's journeys through the portal in Chromium, with the portal's real CSP.

- the minute-taker: writes, the draft is autosaved, the session expires, and after
  logging in again she is back on the editor with her text restored;
- a parent on a 390 px phone: a notification, the shared minutes, consent given and
  withdrawn by keyboard, without sideways scrolling and with a visible focus;
- the FG: a child found by name, its access log, the export;
- the chair's day: start page, case, a meeting scheduled, its minutes approved, from
  the case link to the approve button by keyboard (Tab to each, Enter or Space).

Set-up that is not under test goes through the portal's own HTTP routes; what the
user does happens in the browser, found by role and label as a screen reader would,
and every journey asserts on what the user sees.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import Locator, Page, ViewportSize, expect

from e2e.pages import Header, KeyboardUser, LoginPage, PersonaPicker, StartPage, log_in
from e2e.test_consent import log_in_citizen
from portal.audit.service import Requester, record
from portal.demo import DEMO_CASE, stable_id
from portal.localtime import LOCAL_TIME
from portal.policy import Allow
from tests.harness import Running
from tests.meetings.test_meetings import schedule
from tests.minutes.helpers import logged_in, save, section

if TYPE_CHECKING:
    from e2e.conftest import Browse

SAM_CASE = stable_id("case", DEMO_CASE.key)
DEMO_MEETING = stable_id("meeting", DEMO_CASE.key)
BAKEN = stable_id("org", "het-baken")
PHONE: ViewportSize = {"width": 390, "height": 844}

# Whether the page scrolls sideways: wider than the viewport it is shown in.
PAGE_WIDTH = "() => [document.scrollingElement.scrollWidth, window.innerWidth]"


def path_of(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url)


# -- 1. the minute-taker ------------------------------------------------------

def open_editor(page: Page, meeting_id: str) -> None:
    """From the meeting's page to its structured minutes editor, by links."""
    page.goto(f"/meetings/{meeting_id}")
    page.get_by_role("link", name="Verslag", exact=True).click()
    page.get_by_role("link", name="Verslag schrijven of bewerken").click()
    expect(page.get_by_role("heading", level=1, name=re.compile("^Verslag van het MDO van"))) \
        .to_be_visible()


def test_the_minute_takers_text_survives_an_expired_session(
        portal_page: Page, portal: Running) -> None:
    page = portal_page
    text = "Sam werkt geconcentreerder sinds de nieuwe plek in de klas."
    log_in(page, "Mila Smit")
    open_editor(page, DEMO_MEETING)
    editor = path_of(page)
    slot = page.get_by_role("group", name="Nieuw onderdeel", exact=True).first
    slot.get_by_label("Kopje", exact=True).fill("Observaties in de klas")
    body = slot.get_by_label("Tekst", exact=True)
    body.focus()
    page.keyboard.type(text)
    # The editor saves an encrypted draft a moment after typing stops.
    expect(page.locator("#draft-status")).to_have_text(
        re.compile(r"^Concept opgeslagen om \d\d:\d\d$"), timeout=8_000)
    saved_at = page.locator("#draft-status").inner_text().rsplit(" ", 1)[1]

    # She is called away; the idle timeout passes. Back at her desk she saves,
    # by keyboard, and the portal asks her to log in again, saying why.
    portal.clock.advance(minutes=16)
    keyboard = KeyboardUser(page)
    save_button = page.get_by_role("button", name="Opslaan als nieuwe versie")
    body.focus()
    keyboard.tab_to(save_button, max_stops=40)
    keyboard.press("Enter")
    login = LoginPage(page)
    expect(login.heading).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Uw sessie is verlopen")
    assert text not in page.content()  # nothing of the case on the login page

    login.demo_login.click()
    PersonaPicker(page).wait().persona("Mila Smit").click()
    # Back on the same editor, told that her draft is back, with her text in it.
    expect(page).to_have_url(re.compile(re.escape(editor) + "$"))
    expect(page.get_by_text(f"Uw concept van {saved_at} is hersteld.")).to_be_visible()
    restored = page.get_by_role("group", name=re.compile("^(Nieuw onderdeel|Onderdeel 1)$")) \
        .first
    expect(restored.get_by_label("Kopje", exact=True)).to_have_value("Observaties in de klas")
    expect(restored.get_by_label("Tekst", exact=True)).to_have_value(text)


# -- 2. a parent on a phone ---------------------------------------------------

SHARED = "Sam leest inmiddels op niveau E5."


def minutes_shared_with_the_family(portal: Running) -> str:
    """A meeting with the family invited, its minutes written, submitted and approved
    with one section shared with the parents."""
    meeting_id = schedule(portal)
    path = f"/meetings/{meeting_id}/minutes"
    writer = logged_in(portal, "notulist")
    saved = save(writer, section("Voortgang op school", SHARED, shared=True),
                 meeting_path=path)
    assert saved.status_code == 200, saved.text
    assert writer.submit(f"{path}/submit").status_code == 200
    chair = logged_in(portal, "ib")
    chair.page(path)
    assert chair.submit(f"{path}/approve", {"version": "1"}).status_code == 200
    return meeting_id


def assert_fits(page: Page) -> None:
    # Measured once the stylesheets have loaded (the text can be there before them).
    page.wait_for_load_state("load")
    width, viewport = page.evaluate(PAGE_WIDTH)
    assert width <= viewport, f"{path_of(page)} scrolls sideways: {width} px in {viewport} px"


def test_a_parent_on_a_phone_reads_the_minutes_and_gives_and_withdraws_consent(
        browse: Browse, portal: Running) -> None:
    minutes_shared_with_the_family(portal)
    page = browse()
    page.set_viewport_size(PHONE)
    keyboard = KeyboardUser(page)

    log_in_citizen(page, "Petra Mulder")
    assert_fits(page)
    inbox = Header(page).menu.get_by_role("link", name=re.compile("^Meldingen"))
    expect(inbox).to_have_accessible_name(re.compile(r"^Meldingen \d+ ongelezen melding"))
    # The family start page lists the newest notifications; the shared minutes are one.
    latest = page.get_by_role("region", name="Nieuwste meldingen")
    expect(latest.get_by_role("link", name="Alle meldingen")).to_be_visible()
    shared_note = latest.get_by_role("link", name=re.compile("gedeeld.*ongelezen")).first
    keyboard.tab_to(shared_note, max_stops=30)
    keyboard.press("Enter")

    # The shared minutes: what was shared, nothing else.
    minutes = page.get_by_role("region", name="Wat er is besproken en afgesproken")
    expect(minutes).to_contain_text(SHARED)
    assert_fits(page)

    # Consent, by keyboard: tick what and for whom with Space, give it with Enter.
    give = page.get_by_role("region", name="Toestemming geven")
    health = give.get_by_role("checkbox", name="Gezondheid", exact=True)
    school = give.get_by_role("group", name="Gedeeld met").get_by_role("checkbox").first
    for box in (health, school):
        keyboard.tab_to(box, max_stops=60)
        keyboard.press("Space")
        expect(box).to_be_checked()
    keyboard.tab_to(give.get_by_role("button", name="Toestemming geven"), max_stops=30)
    keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Uw toestemming")).to_have_text(
        "Uw toestemming is vastgelegd.")
    given = page.get_by_role("region", name="Toestemmingen").get_by_role("listitem") \
        .filter(has_text="Gezondheid").filter(has=page.get_by_role("link", name=re.compile(
            "^Intrekken")))
    expect(given).to_have_count(1)
    assert_fits(page)

    keyboard.tab_to(given.get_by_role("link", name=re.compile("^Intrekken")), max_stops=80)
    keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Toestemming intrekken")).to_be_visible()
    assert_fits(page)
    keyboard.tab_to(page.get_by_role("button", name="Ja, trek mijn toestemming in"),
                    max_stops=40)
    keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Uw toestemming")).to_have_text(
        "Uw toestemming is ingetrokken. Dat geldt vanaf nu.")
    expect(given).to_have_count(0)
    assert_fits(page)


# -- 3. the FG ----------------------------------------------------------------

def test_the_fg_finds_a_child_by_name_reads_its_log_and_exports_it(
        browse: Browse, portal: Running) -> None:
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
    keyboard = KeyboardUser(page)
    LoginPage(page).open().choose_demo_login().persona("Fenna Gerritsen").click()
    StartPage(page).wait()
    search_log = page.get_by_role("main").get_by_role("link", name="Het inzagelog doorzoeken")
    keyboard.tab_to(search_log, max_stops=40)
    keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inzagelog")
    child_field = page.get_by_label("Kind (naam of id)")
    keyboard.tab_to(child_field, max_stops=40)
    keyboard.type("Sam Mulder")
    keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/audit\?.*child=Sam"))
    table = page.get_by_role("table", name="Inzagevastleggingen")
    expect(table.get_by_role("link", name=f"Alleen dit kind ({sam[:8]})").first).to_be_visible()
    expect(table.get_by_role("link", name=f"Alleen dit kind ({noor[:8]})")).to_have_count(0)

    export = page.get_by_role("link", name="Exporteren als CSV")
    keyboard.tab_to(export, max_stops=60)
    with page.expect_download() as started:
        keyboard.press("Enter")
    download = started.value
    assert download.suggested_filename == "access-log.csv"
    content = Path(download.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert rows, "the export is empty"
    assert {row["child_id"] for row in rows} == {sam}
    # A download is not a page response: the same link, fetched with the FG's
    # cookies, says what it is.
    href = export.get_attribute("href")
    assert href and "child=Sam" in href
    answered = page.request.get(href)
    assert answered.status == 200
    assert answered.headers["content-type"] == "text/csv; charset=utf-8"
    assert answered.headers["content-disposition"].startswith("attachment;")


# -- 4. the chair's day -------------------------------------------------------

def open_meetings(keyboard: KeyboardUser) -> None:
    """The case page may show its meetings behind a tab or sub-page named Overleggen."""
    main = keyboard.page.get_by_role("main")
    tab = main.get_by_role("link", name="Overleggen", exact=True).or_(
        main.get_by_role("tab", name="Overleggen", exact=True))
    if tab.count():
        keyboard.tab_to(tab.first, max_stops=40)
        keyboard.press("Enter")
        expect(keyboard.page).to_have_url(re.compile(r"/meetings$"))


def minutes_submitted_for(portal: Running, meeting_path: str, body: str) -> None:
    writer = logged_in(portal, "notulist")
    saved = save(writer, section("Afspraken", body), meeting_path=meeting_path)
    assert saved.status_code == 200, saved.text
    assert writer.submit(f"{meeting_path}/submit").status_code == 200


def case_link(page: Page) -> Locator:
    return page.get_by_role("main").get_by_role("link", name=DEMO_CASE.title, exact=True)


def test_the_chairs_day(browse: Browse, portal: Running) -> None:
    agreed = "De mentor observeert twee weken en koppelt terug."
    page = browse()
    keyboard = KeyboardUser(page)
    LoginPage(page).open().choose_demo_login().persona("Ilse Bakker").click()
    start = StartPage(page).wait()
    start.cases_link.click()
    # From here on the way goes by keyboard: Tab to each link and button, Enter.
    keyboard.tab_to(case_link(page), max_stops=40)
    keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name=DEMO_CASE.title)).to_be_visible()

    # Schedule the MDO.
    open_meetings(keyboard)
    expect(page.get_by_role("link", name="Een MDO plannen")).to_be_visible()
    keyboard.tab_to(page.get_by_role("link", name="Een MDO plannen"), max_stops=60)
    keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/meetings/new$"))
    day = (portal.clock.now + timedelta(days=2)).astimezone(LOCAL_TIME).date()
    page.get_by_label("Datum").fill(day.isoformat())
    page.get_by_label("Begintijd (Nederlandse tijd)").fill("09:15")
    page.get_by_label("Plaats of videolink").fill("Het Baken, kamer 1.03")
    page.get_by_label("Notulist").select_option(label="Mila Smit")
    behaviour = page.get_by_role("checkbox", name="Gedrag")
    keyboard.tab_to(behaviour, max_stops=60)
    keyboard.press("Space")
    expect(behaviour).to_be_checked()
    keyboard.tab_to(page.get_by_role("button", name="Plannen en uitnodigingen versturen"),
                    max_stops=60)
    keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/meetings/[0-9a-f-]{36}$"))
    meeting_path = path_of(page)
    expect(page.get_by_role("main")).to_contain_text("09:15")
    expect(page.get_by_role("main")).to_contain_text("Het Baken, kamer 1.03")

    # The start page shows the meeting this week.
    page.goto("/")
    week = page.get_by_role("region", name="Overleggen deze week")
    expect(week.get_by_role("link", name=re.compile("09:15"))).to_be_visible()

    # Later that day the minute-taker submits the minutes; the chair approves them
    # from her start page.
    minutes_submitted_for(portal, f"{meeting_path}/minutes", agreed)
    page.reload()
    waiting = page.get_by_role("region", name="Verslagen om goed te keuren")
    keyboard.tab_to(waiting.get_by_role("link", name=re.compile("^Verslag van .*09:15")),
                    max_stops=60)
    keyboard.press("Enter")
    expect(page.get_by_text(agreed)).to_be_visible()
    keyboard.tab_to(page.get_by_role("button", name="Versie 1 vaststellen"), max_stops=80)
    keyboard.press("Enter")
    expect(page.get_by_text(re.compile("vastgesteld door Ilse Bakker"))).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("region", name="Verslagen om goed te keuren")).to_have_count(0)
