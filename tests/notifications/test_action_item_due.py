"""A reminder of an action item is also a notification in the portal: for its owner
only, one per reminder, leading to the case's action items."""

from __future__ import annotations

from sqlalchemy import select

from portal.db import unit_of_work
from portal.demo import stable_id
from portal.mail.models import OutboxMessage
from portal.meetings.notices import queue_reminders
from portal.notifications.models import Notification
from portal.people.models import Person
from tests.harness import Running
from tests.notifications.test_inbox import CASE_ID, CHAIR, MENTOR, login, notifications_of

DUE = "action_item.due"


def due_rows(running: Running, person_id: str) -> list[Notification]:
    return [row for row in notifications_of(running, person_id) if row.kind == DUE]


def remind(running: Running) -> int:
    with unit_of_work(running.portal.sessions) as db:
        return queue_reminders(db, running.clock(), running.portal.settings.public_url)


def test_each_reminder_tells_the_owner_once_in_the_portal(running: Running) -> None:
    assert remind(running) == 0, "the demo item is due in 14 days"
    assert due_rows(running, MENTOR) == []
    running.clock.advance(days=13)
    assert remind(running) == 1
    assert remind(running) == 0
    [before] = due_rows(running, MENTOR)
    assert (before.object_type, before.case_id, before.family) == (
        "action_item", CASE_ID, False)
    assert before.mailed_at is not None, "the reminder is its own mail"
    running.clock.advance(days=2)
    assert remind(running) == 1
    assert len(due_rows(running, MENTOR)) == 2, "once before the due date, once overdue"
    assert remind(running) == 0
    assert len(due_rows(running, MENTOR)) == 2
    others = [CHAIR, stable_id("person", "notulist"), stable_id("person", "ouder1")]
    assert all(due_rows(running, person_id) == [] for person_id in others)


def test_the_notification_opens_the_cases_action_items(running_sqlite: Running) -> None:
    running_sqlite.clock.advance(days=13)
    assert remind(running_sqlite) == 1
    mentor = login(running_sqlite, "mentor")
    inbox = mentor.page("/inbox")
    assert "Een actiepunt van u moet binnenkort af zijn of is over de termijn" in inbox.text
    assert "observeren" not in inbox.text, "the inbox names no content"
    [row] = due_rows(running_sqlite, MENTOR)
    opened = mentor.get(f"/inbox/{row.id}")
    assert opened.status_code == 200
    assert opened.url.path == f"/cases/{CASE_ID}/actions"
    assert "observeren" in opened.text.lower(), "the owner sees the item on its tab"
    assert login(running_sqlite, "ib").get(f"/inbox/{row.id}").status_code == 404


def test_an_owner_without_an_e_mail_address_is_reminded_in_the_portal(
        running: Running) -> None:
    """Reminders went only to owners with an e-mail address, so an owner without one
    heard nothing at all; now the portal tells them, and no mail is queued."""
    with unit_of_work(running.portal.sessions) as db:
        db.get_one(Person, MENTOR).email = None
    running.clock.advance(days=13)
    assert remind(running) == 1
    assert len(due_rows(running, MENTOR)) == 1
    with running.portal.sessions() as db:
        assert db.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "action_item.reminder")).all() == []
