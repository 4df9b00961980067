"""Moving a meeting: a new date, time or duration, and the invitees hear it (issue 14).

Only whoever may schedule in the case moves a meeting (the same gate as
cancelling, recorded as ``meeting.move``), and only one still to come: a
cancelled meeting or one that has begun stays as it was. The new time is
checked as scheduling checks it (``service.parse_when``). A move is recorded
on the meeting itself; the number of those records is the calendar entry's
``SEQUENCE``, so every invitee's calendar replaces the entry it holds (same
UID) instead of adding a second one. The mail is as content-free as the
invitation.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.cases.gate import case_facts
from portal.errors import N_, InvalidInput
from portal.meetings.models import MeetingStatus
from portal.meetings.notices import MOVE_EVENT, Notice, announce, times_moved
from portal.meetings.service import _meeting, parse_when
from portal.notifications import events as notifications
from portal.notifications.service import Kind
from portal.policy import Action, Actor


def move_meeting(db: Session, who: Requester, actor: Actor, now: datetime, meeting_id: str,
                 form: Mapping[str, str], public_url: str) -> bool:
    """Move the meeting to the form's date, time and duration; False when that is where
    it already is (nothing recorded or sent). Raises ``InvalidInput`` (nothing changed)."""
    meeting = _meeting(db, who, actor, now, meeting_id, Action.MEETING_SCHEDULE, MOVE_EVENT,
                       "update")
    if meeting.status is not MeetingStatus.SCHEDULED:
        raise InvalidInput({"meeting": N_("A cancelled meeting cannot be moved.")})
    if meeting.starts_at <= now:
        raise InvalidInput({"meeting": N_("A meeting that has begun cannot be moved.")})
    errors: dict[str, str] = {}
    starts_at, duration = parse_when(form, now, errors)
    if errors:
        raise InvalidInput(errors)
    if (starts_at, duration) == (meeting.starts_at, meeting.duration_minutes):
        return False
    meeting.starts_at, meeting.duration_minutes = starts_at, duration
    facts = case_facts(db, meeting.case_id)
    record(db, who, now, event_type=MOVE_EVENT, action="update", outcome="allowed",
           case_id=meeting.case_id, child_id=facts.child_id if facts else None,
           object_type="meeting", object_id=meeting.id)
    db.flush()
    announce(db, meeting, now, public_url, Notice.CHANGED, sequence=times_moved(db, meeting))
    notifications.meeting_announced(db, now, meeting, actor.person_id,
                                    kind=Kind.MEETING_CHANGED)
    return True
