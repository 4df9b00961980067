"""Who hears of which event: one function per event, called where the event happens.

Each is called by the service that makes the change, after its policy
decision, in the same transaction: if the change rolls back, so does the
notification. Only ids go in (portal.notifications.models).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.meetings.models import Meeting, MeetingInvitee
from portal.minutes.models import MinutesSection
from portal.notifications.service import Kind, chairs_of, notify, participants_of
from portal.people.models import Person, PersonKind


def added_to_case(db: Session, now: datetime, case_id: str, person_id: str,
                  actor_id: str) -> None:
    notify(db, now, Kind.ADDED_TO_CASE, [person_id], object_type="case", object_id=case_id,
           case_id=case_id, actor_id=actor_id)


def _invitees(db: Session, meeting_id: str) -> tuple[list[str], set[str]]:
    rows = db.execute(select(MeetingInvitee.person_id, MeetingInvitee.family)
                      .where(MeetingInvitee.meeting_id == meeting_id)).all()
    return [person_id for person_id, _ in rows], {p for p, family in rows if family}


def meeting_announced(db: Session, now: datetime, meeting: Meeting, actor_id: str, *,
                      kind: Kind = Kind.MEETING_SCHEDULED) -> None:
    """Scheduled or changed: every invitee; the event sent its own mail."""
    people, family = _invitees(db, meeting.id)
    notify(db, now, kind, people, object_type="meeting", object_id=meeting.id,
           case_id=meeting.case_id, actor_id=actor_id, family=family, mailed=True)


def meeting_cancelled(db: Session, now: datetime, meeting: Meeting, actor_id: str) -> None:
    meeting_announced(db, now, meeting, actor_id, kind=Kind.MEETING_CANCELLED)


def minutes_submitted(db: Session, now: datetime, case_id: str, meeting_id: str,
                      actor_id: str) -> None:
    notify(db, now, Kind.MINUTES_TO_APPROVE, chairs_of(db, case_id), object_type="minutes",
           object_id=meeting_id, case_id=case_id, actor_id=actor_id)


def minutes_approved(db: Session, now: datetime, case_id: str, meeting_id: str,
                     version_id: str, actor_id: str) -> None:
    """The case's participants and the meeting's invitees; its family invitees only when
    a section is shared with them (what each may read is decided when they open it)."""
    people, family = _invitees(db, meeting_id)
    shared = db.scalar(select(MinutesSection.id).where(
        MinutesSection.version_id == version_id,
        MinutesSection.shared_with_parents.is_(True)).limit(1)) is not None
    if not shared:
        people = [p for p in people if p not in family]
    people += participants_of(db, case_id)
    notify(db, now, Kind.MINUTES_APPROVED, people, object_type="minutes",
           object_id=meeting_id, case_id=case_id, actor_id=actor_id, family=family)


def correction_proposed(db: Session, now: datetime, case_id: str, meeting_id: str,
                        actor_id: str) -> None:
    notify(db, now, Kind.CORRECTION_PROPOSED, chairs_of(db, case_id), object_type="minutes",
           object_id=meeting_id, case_id=case_id, actor_id=actor_id)


def correction_decided(db: Session, now: datetime, case_id: str, meeting_id: str,
                       proposer_id: str, actor_id: str) -> None:
    proposer = db.get(Person, proposer_id)
    family = [proposer_id] if proposer is not None and \
        proposer.kind is PersonKind.CITIZEN else []
    notify(db, now, Kind.CORRECTION_DECIDED, [proposer_id], object_type="minutes",
           object_id=meeting_id, case_id=case_id, actor_id=actor_id, family=family)


def consent_changed(db: Session, now: datetime, case_id: str, consent_id: str,
                    actor_id: str, *, withdrawn: bool) -> None:
    """The chair keeps the case's legal basis: they hear of every consent and withdrawal."""
    notify(db, now, Kind.CONSENT_WITHDRAWN if withdrawn else Kind.CONSENT_GIVEN,
           chairs_of(db, case_id), object_type="consent", object_id=consent_id,
           case_id=case_id, actor_id=actor_id)


def action_item_assigned(db: Session, now: datetime, case_id: str, item_id: str,
                         owner_id: str, actor_id: str) -> None:
    notify(db, now, Kind.ACTION_ITEM_ASSIGNED, [owner_id], object_type="action_item",
           object_id=item_id, case_id=case_id, actor_id=actor_id)


def action_item_due(db: Session, now: datetime, case_id: str, item_id: str,
                    owner_id: str) -> None:
    """Written with each content-free reminder (before the due date, once overdue);
    that reminder is its mail."""
    notify(db, now, Kind.ACTION_ITEM_DUE, [owner_id], object_type="action_item",
           object_id=item_id, case_id=case_id, mailed=True)
