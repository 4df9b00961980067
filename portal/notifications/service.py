"""Notify people of events, at the one place each event happens, in its transaction.

A notification names an event and an object, never its content: the inbox
shows a sentence per kind and a link; the page behind the link runs the policy
when the reader opens it, so a notification never grants or leaks anything a
reader can no longer see (consent withdrawn, removed from the case, erased).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, ScalarSelect, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from portal.cases.loaded import remember, remembered
from portal.cases.models import CaseParticipant, CaseRole
from portal.errors import N_
from portal.notifications.models import MailChoice, Notification, NotificationSetting

INBOX_LIMIT = 100
LATEST_LIMIT = 5  # what a start page shows; the inbox holds the rest
_UNREAD = "unread notifications"


class Kind(enum.StrEnum):
    ADDED_TO_CASE = "case.added"
    MEETING_SCHEDULED = "meeting.scheduled"
    MEETING_CHANGED = "meeting.changed"
    MEETING_CANCELLED = "meeting.cancelled"
    MINUTES_TO_APPROVE = "minutes.to_approve"
    MINUTES_APPROVED = "minutes.approved"
    CORRECTION_PROPOSED = "correction.proposed"
    CORRECTION_DECIDED = "correction.decided"
    CONSENT_GIVEN = "consent.given"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    ACTION_ITEM_ASSIGNED = "action_item.assigned"
    ACTION_ITEM_DUE = "action_item.due"
    BIRTHDAY = "consent.birthday"


# What the inbox says (message ids, translated at render time): no content, only the event.
LABELS: dict[str, str] = {
    Kind.ADDED_TO_CASE: N_("You were added to a case"),
    Kind.MEETING_SCHEDULED: N_("You were invited to a meeting"),
    Kind.MEETING_CHANGED: N_("A meeting you were invited to has changed"),
    Kind.MEETING_CANCELLED: N_("A meeting you were invited to was cancelled"),
    Kind.MINUTES_TO_APPROVE: N_("Minutes are waiting for your approval"),
    Kind.MINUTES_APPROVED: N_("Minutes were approved and shared with you"),
    Kind.CORRECTION_PROPOSED: N_("A correction of minutes was proposed"),
    Kind.CORRECTION_DECIDED: N_("Your proposed correction was decided"),
    Kind.CONSENT_GIVEN: N_("Consent was given in a case"),
    Kind.CONSENT_WITHDRAWN: N_("Consent was withdrawn in a case"),
    Kind.ACTION_ITEM_ASSIGNED: N_("An action item was assigned to you"),
    Kind.ACTION_ITEM_DUE: N_("One of your action items is due soon or overdue"),
    Kind.BIRTHDAY: N_("A birthday will change who must consent in a case"),
}


def notify(db: Session, now: datetime, kind: Kind, recipients: Iterable[str], *,
           object_type: str, object_id: str, case_id: str | None,
           actor_id: str | None = None, family: Iterable[str] = (),
           mailed: bool = False) -> int:
    """One notification per recipient (never the person who caused the event).

    ``family``: recipients who read as family members (their links go to the
    family pages). ``mailed``: the event already sent its own mail (a meeting
    invitation), so no mail copy follows."""
    family = set(family)
    count = 0
    for person_id in sorted(set(recipients) - {actor_id}):
        db.add(Notification(recipient_id=person_id, kind=kind.value, object_type=object_type,
                            object_id=object_id, case_id=case_id,
                            family=person_id in family, created_at=now,
                            mailed_at=now if mailed else None))
        count += 1
    db.flush()
    return count


def chairs_of(db: Session, case_id: str) -> list[str]:
    return list(db.scalars(select(CaseParticipant.person_id).where(
        CaseParticipant.case_id == case_id, CaseParticipant.case_role == CaseRole.CHAIR)))


def participants_of(db: Session, case_id: str) -> list[str]:
    return list(db.scalars(select(CaseParticipant.person_id).where(
        CaseParticipant.case_id == case_id)))


# -- the inbox -------------------------------------------------------------------

@dataclass(frozen=True)
class InboxEntry:
    id: str
    label: str  # a message id
    created_at: datetime
    unread: bool


def link_of(row: Notification) -> str:
    """Where the notification leads; that page decides whether the reader may see it."""
    if row.family:
        return f"/family/cases/{row.case_id}" if row.case_id else "/family"
    if row.object_type == "meeting":
        return f"/meetings/{row.object_id}"
    if row.object_type == "minutes":  # object_id: the meeting
        return f"/meetings/{row.object_id}/minutes"
    if row.object_type == "consent" and row.case_id:
        return f"/cases/{row.case_id}/consent"
    if row.object_type == "action_item" and row.case_id:
        return f"/cases/{row.case_id}/actions"
    if row.case_id:
        return f"/cases/{row.case_id}"
    return "/"


def unread_of(person_id: ColumnElement[str] | InstrumentedAttribute[str]
              ) -> ScalarSelect[int]:
    """The unread count as a column, for the request's own look-up of its person."""
    return select(func.count(Notification.id)).where(
        Notification.recipient_id == person_id, Notification.read_at.is_(None)
    ).scalar_subquery()


def unread_count(db: Session, person_id: str) -> int:
    """What the header shows: the count loaded with the person (``remember_unread``),
    unless this transaction wrote since (portal.cases.loaded drops it then)."""
    return remembered(db, (_UNREAD, person_id), lambda: db.scalar(
        select(func.count(Notification.id)).where(
            Notification.recipient_id == person_id, Notification.read_at.is_(None))) or 0)


def remember_unread(db: Session, person_id: str, count: int) -> None:
    remember(db, (_UNREAD, person_id), count)


def inbox(db: Session, person_id: str) -> list[InboxEntry]:
    return _newest(db, person_id, INBOX_LIMIT)


def latest(db: Session, person_id: str) -> list[InboxEntry]:
    """The start pages' few newest, read and unread, in one query; the same entries
    as the inbox's first rows (kind and link only, no content)."""
    return _newest(db, person_id, LATEST_LIMIT)


def _newest(db: Session, person_id: str, limit: int) -> list[InboxEntry]:
    rows = db.scalars(select(Notification).where(Notification.recipient_id == person_id)
                      .order_by(Notification.created_at.desc(), Notification.id)
                      .limit(limit))
    return [InboxEntry(id=row.id, label=LABELS.get(row.kind, row.kind),
                       created_at=row.created_at, unread=row.read_at is None)
            for row in rows]


def open_notification(db: Session, person_id: str, notification_id: str,
                      now: datetime) -> str | None:
    """Mark one of this person's notifications read; its link, or None if not theirs."""
    row = db.get(Notification, notification_id) if len(notification_id) == 36 else None
    if row is None or row.recipient_id != person_id:
        return None
    if row.read_at is None:
        row.read_at = now
        db.flush()
    return link_of(row)


def mark_all_read(db: Session, person_id: str, now: datetime) -> None:
    db.execute(update(Notification).where(Notification.recipient_id == person_id,
                                          Notification.read_at.is_(None))
               .values(read_at=now).execution_options(synchronize_session=False))


# -- the mail choice -------------------------------------------------------------

def mail_choice(db: Session, person_id: str) -> MailChoice:
    setting = db.get(NotificationSetting, person_id)
    return setting.mail if setting is not None else MailChoice.IMMEDIATE


def choose_mail(db: Session, person_id: str, value: str) -> MailChoice | None:
    """Store the person's choice; None when ``value`` is not a choice."""
    try:
        choice = MailChoice(value)
    except ValueError:
        return None
    setting = db.get(NotificationSetting, person_id)
    if setting is None:
        db.add(NotificationSetting(person_id=person_id, mail=choice))
    else:
        setting.mail = choice
    db.flush()
    return choice
