"""Mail goes through the outbox to a real SMTP server on loopback."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.db import make_engine, session_factory, unit_of_work
from portal.mail.catcher import MailCatcher, free_port
from portal.mail.models import OutboxMessage
from portal.mail.service import SmtpConfig, deliver_pending, enqueue
from tests.harness import Running


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def sessions(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    yield session_factory(engine)
    engine.dispose()


def test_only_committed_mail_is_sent(sessions) -> None:  # type: ignore[no-untyped-def]
    catcher = MailCatcher().start()
    try:
        def request_that_fails_after_queueing() -> None:
            with unit_of_work(sessions) as db:
                enqueue(db, now(), kind="test", recipient="a@example.test",
                        subject="rolled back", body="-")
                raise RuntimeError("the request failed after queueing")

        with pytest.raises(RuntimeError):
            request_that_fails_after_queueing()
        with unit_of_work(sessions) as db:
            enqueue(db, now(), kind="test", recipient="b@example.test", subject="committed",
                    body="Er staat iets voor u klaar in het MDO-portaal.",
                    calendar="BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
        config = SmtpConfig("127.0.0.1", catcher.port, "portal@example.test")
        assert deliver_pending(sessions, config, now) == 1
        assert deliver_pending(sessions, config, now) == 0, "each message goes once"
        [message] = catcher.snapshot()
        assert message.subject == "committed" and message.recipients == ("b@example.test",)
        assert message.attachments == ("mdo.ics",)
    finally:
        catcher.stop()


def test_undeliverable_mail_waits_and_is_retried(sessions) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    with unit_of_work(sessions) as db:
        enqueue(db, now(), kind="test", recipient="c@example.test", subject="later", body="-")
    config = SmtpConfig("127.0.0.1", port, "portal@example.test")
    assert deliver_pending(sessions, config, now) == 0
    with sessions() as db:
        row = db.scalars(select(OutboxMessage)).one()
        assert (row.attempts, row.sent_at, row.last_error) == (1, None, "ConnectionRefusedError")
    catcher = MailCatcher(port).start()
    try:
        assert deliver_pending(sessions, config, now) == 1
        assert [m.subject for m in catcher.snapshot()] == ["later"]
    finally:
        catcher.stop()


def test_dev_mode_catches_mail_and_shows_it(running_sqlite: Running) -> None:
    portal = running_sqlite.portal
    with unit_of_work(portal.sessions) as db:
        enqueue(db, portal.clock(), kind="test", recipient="d@example.test",
                subject="Uitnodiging MDO", body="U heeft een uitnodiging in het portaal.")
    portal.mail.poke()
    deadline = time.monotonic() + 10
    while not portal.mail_catcher.snapshot() and time.monotonic() < deadline:
        time.sleep(0.05)
    page = running_sqlite.client().get("/dev/mail")
    assert "Uitnodiging MDO" in page.text and "d@example.test" in page.text
