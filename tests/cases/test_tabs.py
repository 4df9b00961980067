"""The case page's tabs: each renders for a participant with the header and the
current tab marked, refuses an outsider without a word of the case, and leaves
its read on record; the meetings tab shows where each meeting's minutes stand."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.demo import stable_id
from tests.documents.helpers import CASE_ID, CASE_PATH, logged_in
from tests.harness import Running
from tests.minutes import helpers as minutes

TABS = {"overview": CASE_PATH, "meetings": f"{CASE_PATH}/meetings",
        "documents": f"{CASE_PATH}/documents", "actions": f"{CASE_PATH}/actions",
        "consent": f"{CASE_PATH}/consent", "timeline": f"{CASE_PATH}/timeline"}
NAV = '<nav class="case-tabs" aria-label="Onderdelen van deze casus">'
CURRENT = re.compile(r'<a class="case-tabs__link[^"]*" href="([^"]+)" aria-current="page">')


def _case_reads(running: Running, persona: str) -> list[tuple[str, str]]:
    with running.portal.sessions() as db:
        return [(event, outcome) for event, outcome in db.execute(
            select(AccessRecord.event_type, AccessRecord.outcome).where(
                AccessRecord.case_id == CASE_ID,
                AccessRecord.user_id == stable_id("person", persona))
            .order_by(AccessRecord.seq))]


@pytest.mark.parametrize("tab", list(TABS))
def test_each_tab_shows_the_header_and_marks_itself(running_sqlite: Running, tab: str) -> None:
    mentor = logged_in(running_sqlite, "mentor")
    page = mentor.page(TABS[tab])
    assert page.status_code == 200, page.text
    assert NAV in page.text
    assert CURRENT.findall(page.text) == [TABS[tab]], "exactly this tab is the current one"
    header = page.text[page.text.index('id="case-header"'):page.text.index(NAV)]
    for label in ("Kind", "Doel", "Grondslag", "Status"):
        assert f"<dt>{label}</dt>" in header
    for href in TABS.values():
        assert f'href="{href}"' in page.text


@pytest.mark.parametrize("tab", ["overview", "meetings", "documents", "actions"])
def test_each_tab_puts_its_read_on_record(running: Running, tab: str) -> None:
    mentor = logged_in(running, "mentor")
    before = _case_reads(running, "mentor")
    assert mentor.get(TABS[tab]).status_code == 200
    added = _case_reads(running, "mentor")[len(before):]
    assert ("case.view", "allowed") in added


@pytest.mark.parametrize("tab", list(TABS))
def test_an_outsider_is_refused_every_tab_and_the_refusal_is_recorded(
        running_sqlite: Running, tab: str) -> None:
    outsider = logged_in(running_sqlite, "buitenstaander")
    before = _case_reads(running_sqlite, "buitenstaander")
    refused = outsider.get(TABS[tab])
    assert refused.status_code == 404
    assert NAV not in refused.text and "Sam" not in refused.text
    added = _case_reads(running_sqlite, "buitenstaander")[len(before):]
    assert added and all(outcome == "denied" for _, outcome in added)


def test_anonymous_visitor_is_sent_to_log_in(running_sqlite: Running) -> None:
    visitor = running_sqlite.client()
    for path in TABS.values():
        assert "/login" in str(visitor.get(path).url), path


def test_overview_points_to_what_needs_attention_and_keeps_forms_closed(
        running_sqlite: Running) -> None:
    chair = logged_in(running_sqlite, "ib")
    page = chair.page(CASE_PATH).text
    assert "Wat aandacht vraagt" in page
    assert f'href="{CASE_PATH}/actions"' in page
    # Forms behind a button: the add form is a closed disclosure.
    assert '<details class="disclosure" id="add-participant-form">' in page
    # Close and erase come last, erase after close.
    assert page.index('id="attention"') < page.index('id="participants"') \
        < page.index('id="close-case"') < page.index('id="erase-case"')
    # The other parts live on their own tabs now.
    assert 'id="documents"' not in page and 'id="action-items"' not in page


def test_the_meetings_tab_follows_the_minutes(running_sqlite: Running) -> None:
    chair = logged_in(running_sqlite, "ib")
    meetings_tab = f"{CASE_PATH}/meetings"
    assert "verslag: concept" not in chair.page(meetings_tab).text
    writer = minutes.logged_in(running_sqlite, "notulist")
    assert minutes.save(writer, minutes.section("Voortgang", "Gaat goed")).status_code == 200
    assert "minutes-state--draft" in chair.page(meetings_tab).text
    assert writer.submit(f"{minutes.MINUTES}/submit").status_code == 200
    page = chair.page(meetings_tab).text
    assert "minutes-state--waiting" in page and "verslag wacht op vaststelling" in page
    overview = chair.page(CASE_PATH).text
    assert "1 wacht op vaststelling" in overview
    chair.page(minutes.MINUTES)
    assert chair.submit(f"{minutes.MINUTES}/approve", {"version": "1"}).status_code == 200
    page = chair.page(meetings_tab).text
    assert "minutes-state--approved" in page and "verslag vastgesteld" in page
    assert f'href="{minutes.MINUTES}"' in page
    assert "Gaat goed" not in page, "the state only, never the content"


def test_the_free_text_minutes_form_is_gone(running_sqlite: Running) -> None:
    chair = logged_in(running_sqlite, "ib")
    assert chair.get(f"{CASE_PATH}/minutes/new").status_code == 404
    documents = chair.page(f"{CASE_PATH}/documents").text
    assert "/minutes/new" not in documents
    assert '<details class="disclosure" id="upload-form">' in documents
