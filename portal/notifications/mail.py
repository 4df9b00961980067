"""Mail copies of notifications: content-free, right away or in one daily digest.

A mail says only how many notifications wait and links to the inbox; which
case, which child or what happened is seen in the portal, after the policy.
Each person chooses (``NotificationSetting``): a mail each round in which
something new arrived (the default), or one digest a day from ``DIGEST_HOUR``
Dutch time. A notification read before its mail was due is not mailed.
Run as an exclusive job (portal/jobs/schedule.py), so each mail goes once.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.localtime import LOCAL_TIME
from portal.mail.service import enqueue
from portal.notifications.models import MailChoice, Notification, NotificationSetting
from portal.people.models import Person

DIGEST_HOUR = time(7, 0)

# Short enough not to be folded (RFC 5322 lines of 78 characters).
SUBJECT = "Nieuwe melding in het MDO-portaal / New notification"
DIGEST_SUBJECT = "Uw meldingen van vandaag / Your notifications of today"
BODY = (
    "Er {verb} {count} nieuwe {noun} voor u in het MDO-portaal. "
    "Log in om te zien wat: {link}\n\n"
    "{count} new notification(s) wait for you in the MDO Portal. "
    "Log in to see what: {link}\n\n"
    "U kunt kiezen voor één mail per dag: {settings}\n"
    "You can choose one mail a day: {settings}\n"
)


def _body(count: int, public_url: str) -> str:
    return BODY.format(verb="staat" if count == 1 else "staan", count=count,
                       noun="melding" if count == 1 else "meldingen",
                       link=f"{public_url}/inbox", settings=f"{public_url}/settings/notifications")


def queue_mail_copies(db: Session, now: datetime, public_url: str) -> int:
    """Queue the immediate mails, and the digests that are due; returns how many."""
    rows = db.execute(
        select(Notification.id, Notification.recipient_id, Notification.read_at, Person.email,
               Person.active, NotificationSetting.mail, NotificationSetting.last_digest_on)
        .join(Person, Person.id == Notification.recipient_id)
        .outerjoin(NotificationSetting, NotificationSetting.person_id == Person.id)
        .where(Notification.mailed_at.is_(None))
        .order_by(Notification.created_at, Notification.id)).all()
    today = now.astimezone(LOCAL_TIME)
    digest_due = today.time() >= DIGEST_HOUR
    done: list[str] = []
    counts: Counter[tuple[str, str, bool]] = Counter()
    for row in rows:
        daily = row.mail is MailChoice.DAILY
        if daily and (not digest_due or row.last_digest_on == today.date()):
            continue  # waits for the next digest
        done.append(row.id)
        if row.read_at is None and row.email and row.active:
            counts[(row.recipient_id, str(row.email), daily)] += 1
    for (person_id, email, daily), count in sorted(counts.items()):
        enqueue(db, now, kind="notification.digest" if daily else "notification",
                recipient=email, subject=DIGEST_SUBJECT if daily else SUBJECT,
                body=_body(count, public_url))
        if daily:
            db.execute(update(NotificationSetting)
                       .where(NotificationSetting.person_id == person_id)
                       .values(last_digest_on=today.date())
                       .execution_options(synchronize_session=False))
    if done:
        db.execute(update(Notification).where(Notification.id.in_(done))
                   .values(mailed_at=now).execution_options(synchronize_session=False))
    db.flush()
    return len(counts)
