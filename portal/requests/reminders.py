"""Content-free reminders to a request's handler: once when nearly due, once when overdue.

Mail says only that a request waits, never whose or about what
(tests/mail/test_content_free.py reads every message the portal sends).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.jobs.leases import lock_free_rows
from portal.mail.service import enqueue
from portal.people.models import Person
from portal.requests.clock import Urgency
from portal.requests.models import RequestStatus, SubjectRequest
from portal.requests.service import urgency_of

SUBJECT = "Herinnering: verzoek van een betrokkene / Reminder: data subject request"
NEARLY_DUE_BODY = ("De termijn van een verzoek dat u behandelt in het MDO-portaal loopt bijna af. "
                   "Log in om het te zien: {link}\n\nThe answer period of a request you handle "
                   "in the MDO Portal ends soon. Log in to see it: {link}\n")
OVERDUE_BODY = ("De termijn van een verzoek dat u behandelt in het MDO-portaal is verstreken. "
                "Log in om het te zien: {link}\n\nThe answer period of a request you handle in "
                "the MDO Portal has passed. Log in to see it: {link}\n")


def queue_request_reminders(db: Session, now: datetime, public_url: str) -> int:
    """Queue the reminders that are due now; each request is reminded once per stage."""
    query = (select(SubjectRequest, Person.email)
             .join(Person, Person.id == SubjectRequest.owner_id)
             .where(SubjectRequest.status != RequestStatus.DECIDED, Person.email.is_not(None),
                    or_(SubjectRequest.reminded_nearly_due_at.is_(None),
                        SubjectRequest.reminded_overdue_at.is_(None))))
    queued = 0
    for request, email in db.execute(lock_free_rows(db, query, of=SubjectRequest)).all():
        stage = urgency_of(db, request, now)
        if stage is Urgency.OVERDUE and request.reminded_overdue_at is None:
            request.reminded_overdue_at = now
            body = OVERDUE_BODY
        elif stage is Urgency.NEARLY_DUE and request.reminded_nearly_due_at is None:
            request.reminded_nearly_due_at = now
            body = NEARLY_DUE_BODY
        else:
            continue
        enqueue(db, now, kind="request.reminder", recipient=str(email), subject=SUBJECT,
                body=body.format(link=f"{public_url}/dpo/requests/{request.id}"))
        queued += 1
    return queued
