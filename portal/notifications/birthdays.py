"""The chair hears, a month ahead, of a birthday that changes who must consent.

On the 12th birthday the child becomes a co-consenter in youth care (and the
child's view starts to count at school); on the 16th the young person alone
consents (portal.consent.model.next_consent_change). The job derives this from
the same case facts the policy decides on, records that it read them, and
writes a content-free notification: the chair opens the case's consent page.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.cases.gate import case_facts
from portal.cases.models import Case, CaseStatus
from portal.consent.model import next_consent_change
from portal.localtime import LOCAL_TIME
from portal.notifications.models import Notification
from portal.notifications.service import Kind, chairs_of, notify
from portal.vault.service import Vault

WINDOW = timedelta(days=30)
# The 12th and 16th birthdays are years apart: a notice in the last two months
# means this birthday was already announced.
ANNOUNCED_WITHIN = timedelta(days=60)
SYSTEM = Requester(user_id=None, user_name="consent birthday notices", user_role="system",
                   organisation_id=None, session_ref=None, client_address=None)


def notify_birthdays(db: Session, vault: Vault, now: datetime) -> int:
    """Notify each chair once of a 12th or 16th birthday in the next 30 days."""
    today = now.astimezone(LOCAL_TIME).date()
    case_ids = list(db.scalars(select(Case.id).where(
        Case.status == CaseStatus.OPEN, Case.child_id.is_not(None), Case.anonymous.is_(False),
        Case.erased_at.is_(None)).order_by(Case.id)))
    count = 0
    for case_id in case_ids:
        facts = case_facts(db, case_id, vault, now)
        if facts is None or facts.consent is None or facts.restricted:
            continue  # under a restriction of the whole case nobody processes its data
        change = next_consent_change(facts.consent.birthdate, today)
        if change is None or change > today + WINDOW:
            continue
        told = set(db.scalars(select(Notification.recipient_id).where(
            Notification.kind == Kind.BIRTHDAY.value, Notification.case_id == case_id,
            Notification.created_at > now - ANNOUNCED_WITHIN)))
        chairs = [person_id for person_id in chairs_of(db, case_id) if person_id not in told]
        if not chairs:
            continue
        record(db, SYSTEM, now, event_type="notification.consent_birthday", action="read",
               outcome="allowed", case_id=case_id, child_id=facts.child_id,
               object_type="case", object_id=case_id)
        count += notify(db, now, Kind.BIRTHDAY, chairs, object_type="consent",
                        object_id=case_id, case_id=case_id)
    return count
