"""An agenda's categories and an action item's categories and owner are bound to the
ciphertext (issue 16): a database edit that widens who may read fails closed, on record."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from portal.audit.models import AccessRecord
from portal.cli import main
from portal.demo import DEMO_CASE, stable_id
from portal.meetings.binding import agenda_binding, item_binding, item_key, meeting_key
from portal.meetings.models import ActionItem, Meeting
from portal.vault.service import LOCATION_ONLY, WITH_ACCESS_FACTS
from tests.harness import PortalClient, Running

CASE_ID = stable_id("case", DEMO_CASE.key)
CASE_PATH = f"/cases/{CASE_ID}"
MEETING_ID = stable_id("meeting", DEMO_CASE.key)
AGENDA = "Observaties in de klas"
ITEM_TEXT = "Huisbezoek plannen met de gezinscoach"


def _chair(running: Running) -> PortalClient:
    chair = running.client()
    chair.login("ib")
    return chair


def _failures(running: Running, event_type: str, object_id: str) -> int:
    with running.portal.sessions() as db:
        return len(db.scalars(select(AccessRecord.id).where(
            AccessRecord.event_type == event_type, AccessRecord.outcome == "failed",
            AccessRecord.reason == "decryption_failed",
            AccessRecord.object_id == object_id)).all())


def _widen_agenda(running: Running) -> None:
    """The database owner drops the category nobody's consent covers."""
    with running.portal.sessions() as db, db.begin():
        db.execute(update(Meeting).where(Meeting.id == MEETING_ID)
                   .values(agenda_categories=["behaviour"]))


def _add_unreadable_item(running: Running, chair: PortalClient) -> str:
    due = (running.clock.now + timedelta(days=5)).date().isoformat()
    response = chair.post(f"{CASE_PATH}/action-items", data={
        "text": ITEM_TEXT, "owner_id": stable_id("person", "mentor"), "due_on": due,
        "category": "family_situation", "confirm_unreadable": "on",
        "csrf_token": chair.csrf})
    assert response.status_code == 200, response.text
    with running.portal.sessions() as db:
        item = db.scalars(select(ActionItem).where(
            ActionItem.categories == ["family_situation"])).one()
        assert item.binding == WITH_ACCESS_FACTS
        return str(item.id)


def _as_before_0034(running: Running) -> None:
    """Seal the demo agenda and every action item the way the portal did before 0034."""
    vault = running.portal.vault
    with running.portal.sessions() as db, db.begin():
        meeting = db.get_one(Meeting, MEETING_ID)
        key = meeting_key(db, vault, meeting)
        agenda = vault.open(db, meeting.agenda_ct, agenda_binding(meeting, "agenda"), key)
        meeting.binding = LOCATION_ONLY
        meeting.agenda_ct = vault.seal(key, agenda, agenda_binding(meeting, "agenda"))
        for item in db.scalars(select(ActionItem)).all():
            text = vault.open(db, item.text_ct, item_binding(item), item_key(db, vault, item))
            item.binding = LOCATION_ONLY
            item.text_ct = vault.seal(item_key(db, vault, item), text, item_binding(item))


def test_a_widened_agenda_fails_closed_with_a_record(running: Running) -> None:
    chair = _chair(running)
    before = chair.page(f"/meetings/{MEETING_ID}")
    assert before.status_code == 200 and AGENDA not in before.text  # family situation
    _widen_agenda(running)
    after = chair.page(f"/meetings/{MEETING_ID}")
    assert after.status_code == 200
    assert AGENDA not in after.text
    assert "De agenda kon niet worden geopend" in after.text
    assert "Het Baken, kamer 2.14" in after.text  # the place is logistics: still there
    assert _failures(running, "meeting.agenda.read", MEETING_ID) == 1


@pytest.mark.parametrize("column", ["categories", "owner"])
def test_a_widened_action_item_fails_closed_with_a_record(running_sqlite: Running,
                                                          column: str) -> None:
    running = running_sqlite
    chair = _chair(running)
    item_id = _add_unreadable_item(running, chair)
    assert ITEM_TEXT not in chair.page(f"{CASE_PATH}/actions").text
    values = {"categories": ["behaviour"]} if column == "categories" else \
        {"owner_id": stable_id("person", "ib"), "categories": ["behaviour"]}
    with running.portal.sessions() as db, db.begin():
        db.execute(update(ActionItem).where(ActionItem.id == item_id).values(**values))
    page = chair.page(f"{CASE_PATH}/actions")
    assert page.status_code == 200 and ITEM_TEXT not in page.text
    assert _failures(running, "action_item.read", item_id) == 1


def test_a_data_key_of_another_object_does_not_open(running_sqlite: Running) -> None:
    """A row pointed at another item's key (copied ciphertext) fails, it is not read."""
    running = running_sqlite
    chair = _chair(running)
    item_id = _add_unreadable_item(running, chair)
    demo_item = stable_id("action_item", DEMO_CASE.key)
    with running.portal.sessions() as db, db.begin():
        demo = db.get_one(ActionItem, demo_item)
        db.execute(update(ActionItem).where(ActionItem.id == item_id).values(
            text_ct=demo.text_ct, categories=demo.categories, owner_id=demo.owner_id))
    page = chair.page(f"{CASE_PATH}/actions")
    assert page.status_code == 200
    assert page.text.count("Twee weken observeren in de klas") == 1  # the demo item only
    assert _failures(running, "action_item.read", item_id) == 1


def test_legacy_rows_still_open_and_rebind_upgrades_them(
        running_sqlite: Running, keys_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    running = running_sqlite
    chair = _chair(running)
    item_id = _add_unreadable_item(running, chair)
    _as_before_0034(running)
    with running.portal.sessions() as db:
        assert set(db.scalars(select(ActionItem.binding))) == {LOCATION_ONLY}
    # A legacy row still opens...
    assert "Twee weken observeren in de klas" in chair.page(f"{CASE_PATH}/actions").text
    # ...and, widened before the rebind, it would open: the gap the rebind closes.
    _widen_agenda(running)
    assert AGENDA in chair.page(f"/meetings/{MEETING_ID}").text
    with running.portal.sessions() as db, db.begin():
        db.execute(update(Meeting).where(Meeting.id == MEETING_ID)
                   .values(agenda_categories=["behaviour", "family_situation"]))

    url = running.portal.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(keys_dir))
    assert main(["keys", "rebind"]) == 0
    assert "1 meeting agenda(s) and 2 action item(s) re-sealed" in capsys.readouterr().out
    assert main(["keys", "rebind"]) == 0  # idempotent
    assert "0 meeting agenda(s) and 0 action item(s)" in capsys.readouterr().out
    with running.portal.sessions() as db:
        assert db.get_one(Meeting, MEETING_ID).binding == WITH_ACCESS_FACTS
        assert set(db.scalars(select(ActionItem.binding))) == {WITH_ACCESS_FACTS}
    # still opens
    assert "Twee weken observeren in de klas" in chair.page(f"{CASE_PATH}/actions").text

    _widen_agenda(running)
    with running.portal.sessions() as db, db.begin():
        db.execute(update(ActionItem).where(ActionItem.id == item_id)
                   .values(categories=["behaviour"]))
    assert AGENDA not in chair.page(f"/meetings/{MEETING_ID}").text
    assert ITEM_TEXT not in chair.page(f"{CASE_PATH}/actions").text
    assert _failures(running, "meeting.agenda.read", MEETING_ID) == 1
    assert _failures(running, "action_item.read", item_id) == 1


def test_a_legacy_row_that_does_not_open_is_skipped_and_reported(
        running_sqlite: Running, keys_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    running = running_sqlite
    _as_before_0034(running)
    with running.portal.sessions() as db, db.begin():
        meeting = db.get_one(Meeting, MEETING_ID)
        meeting.agenda_ct = meeting.agenda_ct[:-1] + bytes([meeting.agenda_ct[-1] ^ 1])
    url = running.portal.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(keys_dir))
    assert main(["keys", "rebind"]) == 1
    out, err = capsys.readouterr()
    assert "0 meeting agenda(s) and 1 action item(s)" in out and MEETING_ID in err
    with running.portal.sessions() as db:
        assert db.get_one(Meeting, MEETING_ID).binding == LOCATION_ONLY


def test_an_owner_edited_in_the_database_cannot_mark_the_item_done(
        running_sqlite: Running) -> None:
    """The owner decides who may report on an item: an edited owner is caught before
    the status changes, on record."""
    running = running_sqlite
    item_id = stable_id("action_item", DEMO_CASE.key)  # the mentor's, sealed with binding 2
    with running.portal.sessions() as db, db.begin():
        db.execute(update(ActionItem).where(ActionItem.id == item_id)
                   .values(owner_id=stable_id("person", "notulist")))
    minute_taker = running.client()
    minute_taker.login("notulist")
    minute_taker.page(CASE_PATH)
    response = minute_taker.submit(f"/action-items/{item_id}/status", {"done": "1"})
    assert response.status_code == 500
    with running.portal.sessions() as db:
        assert db.get_one(ActionItem, item_id).status.value == "open"
    assert _failures(running, "action_item.update", item_id) == 1
