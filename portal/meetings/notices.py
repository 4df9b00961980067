"""Content-free notices of meetings and action items: invitations, changes, reminders.

Mail says only that something waits in the portal: no child, no case title,
no text, no other recipients (tests/mail/test_content_free.py reads every
message the portal sends for that).
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from portal.audit.models import AccessRecord
from portal.cases.models import Case
from portal.jobs.leases import lock_free_rows
from portal.localtime import local_time
from portal.mail.service import enqueue
from portal.meetings.calendar import invitation_ics
from portal.meetings.models import ActionItem, ActionItemStatus, Meeting, MeetingInvitee
from portal.notifications import events as notifications
from portal.people.models import Organisation, Person

REMINDER_LEAD = timedelta(days=2)
MOVE_EVENT = "meeting.move"

INVITATION_SUBJECT = "Uitnodiging voor een MDO / MDO invitation"
# The organisation, date and time (Dutch time) tell the invitee which meeting it is;
# what it is about and whom it concerns stay in the portal.
INVITATION_BODY = (
    "U bent uitgenodigd voor een multidisciplinair overleg (MDO) van {organisation} op "
    "{date} om {time} uur (Nederlandse tijd).\n"
    "Log in om te zien waarover het gaat: {link}\n\n"
    "You have been invited to a multidisciplinary meeting (MDO) of {organisation} on "
    "{date} at {time} (Dutch time).\n"
    "Log in to see the details: {link}\n"
)
CANCELLED_SUBJECT = "Een MDO is gewijzigd / An MDO has changed"
CANCELLED_BODY = (
    "Er is een wijziging in het MDO van {organisation} op {date} om {time} uur waarvoor u "
    "bent uitgenodigd. Log in om te zien welke: {link}\n\n"
    "The MDO of {organisation} on {date} at {time} (Dutch time) you were invited to has "
    "changed. Log in to see what changed: {link}\n"
)
REMINDER_SUBJECT = "Herinnering: actiepunt in het MDO-portaal / Reminder: action item"
REMINDER_BODY = (
    "Er staat een actiepunt voor u klaar in het MDO-portaal{when}. Log in om het te zien: "
    "{link}\n\nAn action item in the MDO Portal is waiting for you. Log in to see it: {link}\n"
)


class Notice(enum.Enum):
    """What the invitees are told: each has its mail kind, its subject and its body."""

    INVITATION = ("meeting.invitation", INVITATION_SUBJECT, INVITATION_BODY)
    # Moved: the same calendar entry (same UID, higher SEQUENCE) at its new time.
    CHANGED = ("meeting.changed", CANCELLED_SUBJECT, CANCELLED_BODY)
    CANCELLED = ("meeting.cancelled", CANCELLED_SUBJECT, CANCELLED_BODY)


def _moves(case_id: str) -> tuple[ColumnElement[bool], ...]:
    """The access log's records of moving a meeting of this case: a move needs no
    column of its own."""
    return (AccessRecord.case_id == case_id, AccessRecord.event_type == MOVE_EVENT,
            AccessRecord.object_type == "meeting", AccessRecord.outcome == "allowed")


def times_moved(db: Session, meeting: Meeting) -> int:
    """How often the meeting was moved: its calendar entry's ``SEQUENCE``."""
    return db.scalar(select(func.count()).select_from(AccessRecord).where(
        *_moves(meeting.case_id), AccessRecord.object_id == meeting.id)) or 0


def moves_of_case(db: Session, case_id: str) -> list[tuple[datetime, str]]:
    """When a meeting of the case was moved, and which (for the case's timeline)."""
    return [(at, meeting_id) for at, meeting_id in db.execute(
        select(AccessRecord.occurred_at, AccessRecord.object_id).where(*_moves(case_id)))
        if meeting_id is not None]


def announce(db: Session, meeting: Meeting, now: datetime, public_url: str, notice: Notice,
             *, sequence: int = 0) -> None:
    """One content-free mail per invitee with an e-mail address, a calendar entry attached.

    ``sequence``: how often the meeting was moved (``SEQUENCE`` of the entry)."""
    rows = db.execute(
        select(Person.email, MeetingInvitee.family)
        .join(MeetingInvitee, MeetingInvitee.person_id == Person.id)
        .where(MeetingInvitee.meeting_id == meeting.id, Person.email.is_not(None))
    ).all()
    organisation = db.scalar(select(Organisation.name).join(
        Case, Case.organisation_id == Organisation.id).where(Case.id == meeting.case_id))
    when = {"organisation": organisation, "date": local_time(meeting.starts_at, "%d-%m-%Y"),
            "time": local_time(meeting.starts_at, "%H:%M")}
    kind, subject, body = notice.value
    for email, family in rows:
        # Family members are not case participants; their link is their start page.
        link = f"{public_url}/" if family else f"{public_url}/meetings/{meeting.id}"
        ics = invitation_ics(uid=f"{meeting.id}@mdo-portaal", starts_at=meeting.starts_at,
                             minutes=meeting.duration_minutes, now=now, link=link,
                             cancelled=notice is Notice.CANCELLED, organisation=organisation,
                             sequence=sequence)
        enqueue(db, now, kind=kind, recipient=str(email), subject=subject,
                body=body.format(link=link, **when), calendar=ics)


def queue_reminders(db: Session, now: datetime, public_url: str) -> int:
    """Content-free reminders: once shortly before the due date, once when overdue; a
    notification in the portal for every owner, and a mail to those with an address."""
    queued = 0
    today = now.date()
    due = ActionItem.due_on <= today + timedelta(days=REMINDER_LEAD.days)
    not_yet = or_(and_(ActionItem.due_on < today, ActionItem.overdue_reminded_at.is_(None)),
                  and_(ActionItem.due_on >= today, ActionItem.reminded_at.is_(None)))
    query = (select(ActionItem, Person.email).join(Person, Person.id == ActionItem.owner_id)
             .join(Case, Case.id == ActionItem.case_id)
             .where(ActionItem.status == ActionItemStatus.OPEN, due, not_yet))
    # Another worker's round holds its items until it commits; once it has,
    # PostgreSQL checks "not yet reminded" again on the new row version.
    open_items = db.execute(lock_free_rows(db, query, of=ActionItem)).all()
    for item, email in open_items:
        overdue = item.due_on < today
        if overdue and item.overdue_reminded_at is None:
            item.overdue_reminded_at = now
            when = " (de termijn is verstreken)"
        elif not overdue and item.reminded_at is None:
            item.reminded_at = now
            when = ""
        else:
            continue
        if email:
            enqueue(db, now, kind="action_item.reminder", recipient=email,
                    subject=REMINDER_SUBJECT,
                    body=REMINDER_BODY.format(when=when, link=f"{public_url}/cases"))
        notifications.action_item_due(db, now, item.case_id, item.id, item.owner_id)
        queued += 1
    db.flush()
    return queued
