"""Queue mail in the unit of work; deliver it after commit, retrying failures."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from portal.db import unit_of_work
from portal.mail.models import OutboxMessage
from portal.mail.worker import RoundWorker

log = logging.getLogger("portal.mail")
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str = ""
    password: str = ""


def enqueue(db: Session, now: datetime, *, kind: str, recipient: str, subject: str,
            body: str, calendar: str | None = None) -> OutboxMessage:
    """Queue one message; it is sent only if the surrounding transaction commits."""
    message = OutboxMessage(kind=kind, recipient=recipient, subject=subject, body=body,
                            calendar=calendar, created_at=now, attempts=0)
    db.add(message)
    db.flush()
    return message


def build_message(config: SmtpConfig, row: OutboxMessage) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body)
    if row.calendar:
        message.add_attachment(row.calendar.encode("utf-8"), maintype="text",
                               subtype="calendar", filename="mdo.ics",
                               params={"method": "REQUEST"})
    return message


def send(config: SmtpConfig, message: EmailMessage) -> None:
    with smtplib.SMTP(config.host, config.port, timeout=15) as smtp:
        if config.starttls:
            smtp.starttls()
        if config.username:
            smtp.login(config.username, config.password)
        smtp.send_message(message)


def deliver_pending(sessions: sessionmaker[Session], config: SmtpConfig,
                    clock: Callable[[], datetime], limit: int = 100) -> int:
    """Send queued messages, each marked in its own transaction; returns how many went."""
    sent = 0
    with sessions() as db:
        ids = list(db.scalars(
            select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None),
                                           OutboxMessage.attempts < MAX_ATTEMPTS)
            .order_by(OutboxMessage.created_at).limit(limit)))
    for message_id in ids:
        with unit_of_work(sessions) as db:
            query = select(OutboxMessage).where(OutboxMessage.id == message_id,
                                                OutboxMessage.sent_at.is_(None))
            if db.get_bind().dialect.name == "postgresql":
                # Several workers may deliver at once; each message goes once.
                query = query.with_for_update(skip_locked=True)
            row = db.scalars(query).first()
            if row is None:
                continue
            row.attempts += 1
            try:
                send(config, build_message(config, row))
            except (OSError, smtplib.SMTPException) as exc:
                row.last_error = type(exc).__name__
                log.warning("mail %s not delivered (attempt %d): %s", row.id, row.attempts,
                            type(exc).__name__)
                continue
            row.sent_at = clock()
            sent += 1
    return sent


class MailDispatcher(RoundWorker):
    """One background thread per process that delivers the outbox.

    ``poke()`` after a commit wakes it; it also retries every ``interval``
    seconds, so a message queued by another worker or left over after a
    restart goes out too."""

    def __init__(self, sessions: sessionmaker[Session], config: SmtpConfig,
                 clock: Callable[[], datetime], interval: float = 30.0,
                 jobs: Sequence[Callable[[Session, datetime], object]] = ()) -> None:
        self._sessions = sessions
        self._config = config
        self._clock = clock
        # Run before each delivery round, each in its own transaction: they
        # queue mail that is due (reminders).
        self._jobs = tuple(jobs)
        super().__init__("mail-dispatcher", self._round, interval)

    def _round(self) -> None:
        for job in self._jobs:
            with unit_of_work(self._sessions) as db:
                job(db, self._clock())
        deliver_pending(self._sessions, self._config, self._clock)
