"""Changing a meeting agenda's categories shows the consequence first (issue 12):
computed with the policy, nothing changed until confirmed, every step on record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.demo import DEMO_CASE, stable_id
from portal.meetings.binding import agenda_binding, meeting_key
from portal.meetings.models import Meeting
from portal.vault.service import WITH_ACCESS_FACTS
from tests.harness import PortalClient, Running
from tests.meetings.test_meetings import schedule

DEMO_MEETING = stable_id("meeting", DEMO_CASE.key)
WIDER = {"category": ["behaviour", "family_situation"]}


def _chair(running: Running) -> PortalClient:
    chair = running.client()
    chair.login("ib")
    return chair


def _state(running: Running, meeting_id: str) -> tuple[list[str], bytes]:
    with running.portal.sessions() as db:
        meeting = db.get_one(Meeting, meeting_id)
        return list(meeting.agenda_categories), meeting.agenda_ct


def _events(running: Running, meeting_id: str, event_type: str) -> list[AccessRecord]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == event_type, AccessRecord.object_id == meeting_id)))


def _post(chair: PortalClient, meeting_id: str, data: Mapping[str, Any],
          htmx: bool = False) -> httpx.Response:
    headers = {"HX-Request": "true", "X-CSRF-Token": chair.csrf} if htmx else {}
    payload = data if htmx else {**data, "csrf_token": chair.csrf}
    return chair.post(f"/meetings/{meeting_id}/categories", data=payload, headers=headers)


def test_the_preview_names_who_loses_sight_and_changes_nothing(running_sqlite: Running) -> None:
    running = running_sqlite
    meeting_id = schedule(running)
    before = _state(running, meeting_id)
    chair = _chair(running)
    form = chair.page(f"/meetings/{meeting_id}/categories")
    assert form.status_code == 200
    assert 'id="change-category-behaviour" name="category" value="behaviour" checked' in form.text

    for htmx in (False, True):
        response = _post(chair, meeting_id, WIDER, htmx=htmx)
        assert response.status_code == 200, response.text
        text = response.text
        assert "Controleer het gevolg voordat u bevestigt" in text
        assert "Deze mensen zien de agenda niet meer:" in text
        assert "<li>u</li><li>Mila Smit</li><li>Mirjam de Vries</li>" in text  # she first
        assert ("<html" in text) is not htmx  # htmx: the fragment only
        assert 'name="confirm" value="1"' in text
    assert _state(running, meeting_id) == before  # nothing changed
    assert len(_events(running, meeting_id, "meeting.categories.preview")) == 2
    assert _events(running, meeting_id, "meeting.categories.change") == []
    # Cancel is a link back: still nothing changed, the agenda still reads.
    assert "gesprek over thuissituatie" in chair.page(f"/meetings/{meeting_id}").text


def test_the_confirmed_change_reseals_the_agenda_on_record(running_sqlite: Running) -> None:
    running = running_sqlite
    meeting_id = schedule(running)
    chair = _chair(running)
    chair.page(f"/meetings/{meeting_id}/categories")
    done = _post(chair, meeting_id, {**WIDER, "confirm": "1"})
    assert done.status_code == 200
    assert str(done.url).endswith(f"/meetings/{meeting_id}")
    categories, _ = _state(running, meeting_id)
    assert categories == ["behaviour", "family_situation"]
    change = _events(running, meeting_id, "meeting.categories.change")
    assert len(change) == 1 and change[0].outcome == "allowed"
    assert change[0].reason == "from:behaviour"
    # Re-sealed with the new categories bound: it opens as it is now, and the chair,
    # who chose to lose sight of it, no longer reads it.
    vault = running.portal.vault
    with running.portal.sessions() as db:
        meeting = db.get_one(Meeting, meeting_id)
        assert meeting.binding == WITH_ACCESS_FACTS
        assert vault.open(db, meeting.agenda_ct, agenda_binding(meeting, "agenda"),
                          meeting_key(db, vault, meeting)) == "gesprek over thuissituatie"
    assert "gesprek over thuissituatie" not in chair.page(f"/meetings/{meeting_id}").text


def test_no_categories_is_refused_and_nothing_changes(running_sqlite: Running) -> None:
    running = running_sqlite
    meeting_id = schedule(running)
    before = _state(running, meeting_id)
    chair = _chair(running)
    chair.page(f"/meetings/{meeting_id}/categories")
    response = _post(chair, meeting_id, {"confirm": "1"})
    assert response.status_code == 400
    assert "Kies wat voor informatie" in response.text
    assert _state(running, meeting_id) == before


def test_only_who_schedules_and_reads_the_agenda_may_change_it(running_sqlite: Running) -> None:
    running = running_sqlite
    mentor = running.client()
    mentor.login("mentor")
    mentor.page("/login")
    assert mentor.get(f"/meetings/{DEMO_MEETING}/categories").status_code == 403
    # The chair may schedule but not read the demo agenda (family situation): changing
    # its categories would be a way to read it.
    chair = _chair(running)
    assert chair.get(f"/meetings/{DEMO_MEETING}/categories").status_code == 403
    before = _state(running, DEMO_MEETING)
    refused = _post(chair, DEMO_MEETING, {"category": ["behaviour"], "confirm": "1"})
    assert refused.status_code == 403
    assert _state(running, DEMO_MEETING) == before


def test_an_agenda_edited_in_the_database_is_not_resealed(running_sqlite: Running) -> None:
    """Re-sealing trusts nothing: an agenda whose categories were edited does not open,
    so the change fails closed on record instead of blessing the edit."""
    running = running_sqlite
    meeting_id = schedule(running)
    with running.portal.sessions() as db, db.begin():
        db.get_one(Meeting, meeting_id).agenda_categories = ["school_progress"]
    before = _state(running, meeting_id)
    chair = _chair(running)
    chair.page(f"/meetings/{meeting_id}/categories")
    response = _post(chair, meeting_id, {"category": ["behaviour"], "confirm": "1"})
    assert response.status_code == 500
    assert "gesprek over thuissituatie" not in response.text
    assert _state(running, meeting_id) == before
    failed = _events(running, meeting_id, "meeting.categories.change")
    assert [(r.outcome, r.reason) for r in failed] == [("failed", "decryption_failed")]
