"""Whether a legal hold keeps a case: asked by the retention job and by every erasure."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.retention.models import LegalHold


def on_hold(db: Session, case_id: str, child_id: str | None) -> bool:
    """A hold in force on the case or on its child."""
    holds = [LegalHold.case_id == case_id]
    if child_id is not None:
        holds.append(LegalHold.child_id == child_id)
    return db.scalar(select(LegalHold.id).where(
        or_(*holds), LegalHold.lifted_at.is_(None)).limit(1)) is not None
