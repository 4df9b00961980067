"""Queue mail in the unit of work; deliver it after commit, retrying failures."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.db import unit_of_work
from portal.jobs.leases import claim_rows, process_holder
from portal.mail.models import OutboxMessage
from portal.mail.worker import RoundWorker

log = logging.getLogger("portal.mail")
MAX_ATTEMPTS = 8
# Claimed per round and how long the claim holds: long enough for a batch of
# messages at SMTP's 15-second timeout, short enough to retry after a crash soon.
BATCH = 20
LEASE = timedelta(minutes=10)


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
                    clock: Callable[[], datetime], limit: int = BATCH,
                    holder: str | None = None) -> int:
    """Send queued messages this process claimed; returns how many went.

    The claim is a row lease (``portal.jobs.leases``) taken and committed
    before any SMTP traffic, so no transaction stays open while a mail server
    answers, and each message goes out from one process only."""
    holder = holder or process_holder()
    with unit_of_work(sessions) as db:
        ids = claim_rows(
            db, OutboxMessage.id, OutboxMessage.lease_holder, OutboxMessage.lease_until,
            select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None),
                                           OutboxMessage.attempts < MAX_ATTEMPTS)
            .order_by(OutboxMessage.created_at).limit(limit),
            holder, clock(), LEASE)
        if ids:
            db.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                       .values(attempts=OutboxMessage.attempts + 1))
    sent = 0
    for message_id in ids:
        with sessions() as db:
            row = db.get(OutboxMessage, message_id)
            if row is None or row.sent_at is not None or row.lease_holder != holder \
                    or row.lease_until is None or row.lease_until <= clock():
                continue  # our lease ran out: the message is someone else's now
            message = build_message(config, row)
            attempt = row.attempts
        try:
            send(config, message)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("mail %s not delivered (attempt %d): %s", message_id, attempt,
                        type(exc).__name__)
            _settle(sessions, message_id, last_error=type(exc).__name__)
            continue
        _settle(sessions, message_id, sent_at=clock())
        sent += 1
    return sent


def _settle(sessions: sessionmaker[Session], message_id: str, **outcome: object) -> None:
    """Record what happened and free the lease, so a failure is retried next round."""
    with unit_of_work(sessions) as db:
        db.execute(update(OutboxMessage).where(OutboxMessage.id == message_id,
                                               OutboxMessage.sent_at.is_(None))
                   .values(lease_holder=None, lease_until=None, **outcome))


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
        # queue mail that is due (reminders) and tidy up (portal.jobs.schedule).
        self._jobs = tuple(jobs)
        super().__init__("mail-dispatcher", self._round, interval)

    def _round(self) -> None:
        for job in self._jobs:
            with unit_of_work(self._sessions) as db:
                job(db, self._clock())
        deliver_pending(self._sessions, self._config, self._clock)
