"""Writing access records: in the request's transaction, before any plaintext.

``record`` flushes, so a record that cannot be written raises here, before the
caller decrypts anything: no record, no data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from portal.audit.models import AccessRecord
from portal.policy import Decision


@dataclass(frozen=True)
class Requester:
    """Who is asking and from where, as the access record names them."""

    user_id: str | None
    user_name: str | None
    user_role: str | None
    organisation_id: str | None
    session_ref: str | None
    client_address: str | None


ACTION_CODES = {"create": "C", "read": "R", "update": "U", "delete": "D", "execute": "E"}


def record(db: Session, who: Requester, now: datetime, *, event_type: str, action: str,
           decision: Decision | None = None, outcome: str | None = None,
           case_id: str | None = None, child_id: str | None = None,
           object_type: str | None = None, object_id: str | None = None,
           reason: str | None = None) -> AccessRecord:
    """Append one access record and flush it; raises if it cannot be written."""
    if decision is not None:
        outcome = "allowed" if decision.allowed else "denied"
        reason = getattr(decision, "reason", None)
        basis = getattr(decision, "basis", None)
    else:
        basis = None
    entry = AccessRecord(
        occurred_at=now,
        action_code=ACTION_CODES[action],
        event_type=event_type,
        outcome=outcome or "allowed",
        reason=reason,
        basis=basis,
        user_id=who.user_id,
        user_name=who.user_name,
        user_role=who.user_role,
        user_organisation_id=who.organisation_id,
        session_ref=who.session_ref,
        client_address=who.client_address,
        case_id=case_id,
        child_id=child_id,
        object_type=object_type,
        object_id=object_id,
    )
    db.add(entry)
    db.flush()
    return entry
