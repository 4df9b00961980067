"""Mail copies of notifications over real SMTP: content-free, immediate or a daily digest."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.consent.models import Restriction
from portal.db import unit_of_work
from portal.demo import DEMO_CASE, stable_id
from portal.localtime import LOCAL_TIME
from portal.mail.catcher import CaughtMessage
from portal.notifications.birthdays import notify_birthdays
from portal.notifications.mail import DIGEST_SUBJECT, SUBJECT, queue_mail_copies
from portal.notifications.models import Notification
from tests.harness import Running
from tests.mail.test_content_free import FORBIDDEN, decoded_parts
from tests.notifications.test_inbox import CASE_PATH, LEADER, add_leader, login

LEADER_MAIL = "schoolleider@demo.mdo-portaal.test"


def mail_with(running: Running, subject: str) -> list[CaughtMessage]:
    deadline = time.monotonic() + 15
    while True:
        running.portal.mail.poke()
        found = [m for m in running.portal.mail_catcher.snapshot() if m.subject == subject]
        if found:
            return found
        assert time.monotonic() < deadline, f"no mail {subject!r}"
        time.sleep(0.05)


def assert_content_free(message: CaughtMessage) -> None:
    whole = "\n".join(decoded_parts(message))
    for secret in FORBIDDEN:
        assert not re.search(rf"\b{re.escape(secret)}\b", whole), secret


def local(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.astimezone(LOCAL_TIME).replace(hour=hour, minute=minute, second=0,
                                              microsecond=0)


def test_an_immediate_mail_says_only_that_something_waits(running_sqlite: Running) -> None:
    add_leader(running_sqlite)
    [message] = mail_with(running_sqlite, SUBJECT)
    assert message.recipients == (LEADER_MAIL,)
    assert f"{running_sqlite.base_url}/inbox" in message.body
    assert "Er staat 1 nieuwe melding voor u" in message.body
    assert_content_free(message)
    with running_sqlite.portal.sessions() as db:
        assert db.scalars(select(Notification.mailed_at).where(
            Notification.recipient_id == LEADER)).one() is not None


def test_a_daily_digest_once_a_day_from_seven(running_sqlite: Running) -> None:
    clock = running_sqlite.clock
    clock.now = local(clock.now, 5)  # before the digest hour, Dutch time
    leader = login(running_sqlite, "schoolleider")
    leader.page("/settings/notifications")
    assert leader.submit("/settings/notifications", {"mail": "daily"}).status_code == 200
    add_leader(running_sqlite)
    sessions = running_sqlite.portal.sessions
    with unit_of_work(sessions) as db:
        assert queue_mail_copies(db, clock.now, "https://portal.test") == 0

    clock.now = local(clock.now, 7, 30)
    [digest] = mail_with(running_sqlite, DIGEST_SUBJECT)
    assert digest.recipients == (LEADER_MAIL,)
    assert_content_free(digest)
    assert not [m for m in running_sqlite.portal.mail_catcher.snapshot()
                if m.subject == SUBJECT and m.recipients == (LEADER_MAIL,)]

    chair = login(running_sqlite, "ib")  # a second notification, the same day
    chair.page(CASE_PATH)
    added = chair.submit(f"{CASE_PATH}/action-items", {
        "text": "Rooster bekijken", "owner_id": LEADER, "category": "school_progress",
        "due_on": (clock.now + timedelta(days=4)).date().isoformat()}, htmx=True)
    assert added.status_code == 200
    with unit_of_work(sessions) as db:
        assert queue_mail_copies(db, local(clock.now, 20), "https://portal.test") == 0
    with unit_of_work(sessions) as db:
        tomorrow = local(clock.now + timedelta(days=1), 7, 5)
        assert queue_mail_copies(db, tomorrow, "https://portal.test") == 1
    with sessions() as db:
        assert db.scalars(select(Notification).where(
            Notification.recipient_id == LEADER, Notification.mailed_at.is_(None))).all() == []


def test_a_notification_read_before_its_digest_is_not_mailed(running_sqlite: Running) -> None:
    clock = running_sqlite.clock
    clock.now = local(clock.now, 5)
    leader = login(running_sqlite, "schoolleider")
    leader.page("/settings/notifications")
    leader.submit("/settings/notifications", {"mail": "daily"})
    add_leader(running_sqlite)
    leader.page("/inbox")
    leader.submit("/inbox")  # all read
    with unit_of_work(running_sqlite.portal.sessions) as db:
        assert queue_mail_copies(db, local(clock.now, 8), "https://portal.test") == 0


def test_the_chair_hears_of_a_consent_birthday_once(running_sqlite: Running) -> None:
    sessions, vault = running_sqlite.portal.sessions, running_sqlite.portal.vault
    sixteenth = datetime(2029, 4, 2, 9, tzinfo=LOCAL_TIME)  # Sam's 16th birthday
    with unit_of_work(sessions) as db:
        assert notify_birthdays(db, vault, sixteenth - timedelta(days=45)) == 0
    with unit_of_work(sessions) as db:
        assert notify_birthdays(db, vault, sixteenth - timedelta(days=20)) == 1
    with unit_of_work(sessions) as db:
        assert notify_birthdays(db, vault, sixteenth - timedelta(days=19)) == 0, "once"
    with sessions() as db:
        [row] = db.scalars(select(Notification).where(Notification.kind == "consent.birthday"))
        assert (row.recipient_id, row.object_type, row.case_id) == (
            stable_id("person", "ib"), "consent", stable_id("case", DEMO_CASE.key))
        assert db.scalars(select(AccessRecord.event_type).where(
            AccessRecord.event_type == "notification.consent_birthday")).all() == [
            "notification.consent_birthday"]
    chair = login(running_sqlite, "ib")
    inbox = chair.page("/inbox")
    assert "Een verjaardag verandert wie in een casus toestemming moet geven" in inbox.text


def test_no_birthday_notice_for_a_case_under_restriction(running_sqlite: Running) -> None:
    sessions, vault = running_sqlite.portal.sessions, running_sqlite.portal.vault
    sixteenth = datetime(2029, 4, 2, 9, tzinfo=LOCAL_TIME)  # Sam's 16th birthday
    with unit_of_work(sessions) as db:
        db.add(Restriction(case_id=stable_id("case", DEMO_CASE.key),
                           placed_by=stable_id("person", "fg"), placed_at=sixteenth))
    with unit_of_work(sessions) as db:
        assert notify_birthdays(db, vault, sixteenth - timedelta(days=20)) == 0
