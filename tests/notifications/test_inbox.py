"""The inbox: content-free notifications, written where each event happens, opened
through the page's own policy."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import delete, select

from portal.cases.models import CaseParticipant
from portal.demo import DEMO_CASE, stable_id
from portal.notifications.models import Notification
from tests.harness import PortalClient, Running

CASE_ID = stable_id("case", DEMO_CASE.key)
CASE_PATH = f"/cases/{CASE_ID}"
LEADER = stable_id("person", "schoolleider")
MENTOR = stable_id("person", "mentor")
CHAIR = stable_id("person", "ib")
INBOX_LINK = re.compile(r'href="/inbox/([0-9a-f-]{36})"')


def login(running: Running, persona: str) -> PortalClient:
    client = running.client()
    client.login(persona)
    return client


def add_leader(running: Running) -> PortalClient:
    chair = login(running, "ib")
    chair.page(CASE_PATH)
    added = chair.submit(f"{CASE_PATH}/participants",
                         {"person_id": LEADER, "case_role": "participant", "confirm": "1"},
                         htmx=True)
    assert added.status_code == 200, added.text
    return chair


def notifications_of(running: Running, person_id: str) -> list[Notification]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(Notification).where(
            Notification.recipient_id == person_id).order_by(Notification.created_at)))


def test_a_new_participant_sees_the_count_and_opens_the_case(running: Running) -> None:
    add_leader(running)
    leader = login(running, "schoolleider")
    start = leader.page("/")
    assert "1 ongelezen melding" in start.text
    inbox = leader.page("/inbox")
    assert "U bent toegevoegd aan een casus" in inbox.text
    assert "zorgen over gedrag" not in inbox.text, "the inbox names no content"
    notification_id = INBOX_LINK.search(inbox.text).group(1)  # type: ignore[union-attr]
    opened = leader.get(f"/inbox/{notification_id}")
    assert opened.status_code == 200 and opened.url.path == CASE_PATH
    assert "ongelezen melding" not in leader.page("/").text
    assert notifications_of(running, CHAIR) == [], "the chair is not told what she did"


def test_the_stored_notification_holds_ids_only(running_sqlite: Running) -> None:
    add_leader(running_sqlite)
    [row] = notifications_of(running_sqlite, LEADER)
    assert (row.kind, row.object_type, row.object_id, row.case_id, row.family) == (
        "case.added", "case", CASE_ID, CASE_ID, False)
    # Unread; its mail copy may already be out (the background round mails at once).
    assert row.read_at is None


def test_access_is_decided_when_the_notification_is_opened(running_sqlite: Running) -> None:
    add_leader(running_sqlite)
    [row] = notifications_of(running_sqlite, LEADER)
    with running_sqlite.portal.sessions() as db, db.begin():
        db.execute(delete(CaseParticipant).where(CaseParticipant.case_id == CASE_ID,
                                                 CaseParticipant.person_id == LEADER))
    leader = login(running_sqlite, "schoolleider")
    assert leader.get(f"/inbox/{row.id}").status_code == 404, "removed: the case is gone"


def test_another_persons_notification_is_not_found(running_sqlite: Running) -> None:
    add_leader(running_sqlite)
    [row] = notifications_of(running_sqlite, LEADER)
    mentor = login(running_sqlite, "mentor")
    response = mentor.get(f"/inbox/{row.id}")
    assert response.status_code == 404
    assert notifications_of(running_sqlite, LEADER)[0].read_at is None
    assert mentor.get("/inbox/not-an-id").status_code == 404


def test_mark_all_read(running_sqlite: Running) -> None:
    add_leader(running_sqlite)
    leader = login(running_sqlite, "schoolleider")
    leader.page("/inbox")
    after = leader.submit("/inbox")
    assert after.status_code == 200 and "Alles als gelezen markeren" not in after.text
    assert all(row.read_at is not None for row in notifications_of(running_sqlite, LEADER))


def test_an_action_item_owner_is_told(running_sqlite: Running) -> None:
    chair = login(running_sqlite, "ib")
    chair.page(CASE_PATH)
    due = (running_sqlite.clock.now + timedelta(days=5)).date().isoformat()
    added = chair.submit(f"{CASE_PATH}/action-items", {
        "text": "Gesprek plannen", "owner_id": MENTOR, "due_on": due,
        "category": "school_progress"}, htmx=True)
    assert added.status_code == 200
    [row] = notifications_of(running_sqlite, MENTOR)
    assert (row.kind, row.object_type, row.case_id) == ("action_item.assigned", "action_item",
                                                        CASE_ID)
    assert "Er is een actiepunt aan u toegewezen" in login(running_sqlite, "mentor").page(
        "/inbox").text


def test_meetings_tell_invitees_and_the_family(running_sqlite: Running) -> None:
    chair = login(running_sqlite, "ib")
    chair.page(f"{CASE_PATH}/meetings/new")
    day = (running_sqlite.clock.now + timedelta(days=3)).date().isoformat()
    scheduled = chair.post(f"{CASE_PATH}/meetings", data={
        "date": day, "time": "14:30", "duration": "60", "place": "Kamer 7",
        "agenda": "gesprek", "invite_family": "on", "category": "behaviour",
        "minute_taker_id": stable_id("person", "notulist"), "invitee": [MENTOR],
        "csrf_token": chair.csrf})
    assert scheduled.status_code == 200, scheduled.text
    meeting_id = scheduled.url.path.rsplit("/", 1)[1]
    [mentor_row] = notifications_of(running_sqlite, MENTOR)
    assert (mentor_row.kind, mentor_row.object_id, mentor_row.family) == (
        "meeting.scheduled", meeting_id, False)
    assert mentor_row.mailed_at is not None, "the invitation is its own mail"
    assert notifications_of(running_sqlite, CHAIR) == []
    [parent_row] = notifications_of(running_sqlite, stable_id("person", "ouder1"))
    assert parent_row.family
    parent = login(running_sqlite, "ouder1")
    assert "U bent uitgenodigd voor een overleg" in parent.page("/inbox").text
    opened = parent.get(f"/inbox/{parent_row.id}")
    assert opened.url.path == f"/family/cases/{CASE_ID}", "family links go to family pages"

    chair.page(f"/meetings/{meeting_id}")
    chair.submit(f"/meetings/{meeting_id}/cancel")
    kinds = [row.kind for row in notifications_of(running_sqlite, MENTOR)]
    assert kinds == ["meeting.scheduled", "meeting.cancelled"]


def test_mail_choice_is_saved_and_refuses_nonsense(running_sqlite: Running) -> None:
    mentor = login(running_sqlite, "mentor")
    page = mentor.page("/settings/notifications")
    assert 'value="immediate" checked' in page.text
    saved = mentor.submit("/settings/notifications", {"mail": "daily"})
    assert saved.status_code == 200 and "Uw keuze is opgeslagen" in saved.text
    assert 'value="daily" checked' in saved.text
    refused = mentor.submit("/settings/notifications", {"mail": "hourly"})
    assert refused.status_code == 400 and "Kies hoe u gemaild wilt worden" in refused.text
