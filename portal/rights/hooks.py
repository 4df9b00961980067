"""What the rights machinery does when other features act (imports no feature module).

``portal.minutes.corrections`` calls ``correction_decided`` when the chair accepts or
rejects a correction: a section the family disputed is then verified, and the
restriction that held it while the chair checked (``RestrictionGround.RECTIFICATION``)
is lifted by the chair who decided.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.consent.models import Restriction
from portal.rights.models import RestrictionGround, RestrictionNote


def correction_decided(db: Session, correction_id: str, person_id: str, now: datetime) -> None:
    for restriction in db.scalars(select(Restriction).join(
            RestrictionNote, RestrictionNote.restriction_id == Restriction.id).where(
            RestrictionNote.source_id == correction_id,
            RestrictionNote.ground == RestrictionGround.RECTIFICATION,
            Restriction.lifted_at.is_(None))):
        restriction.lifted_at, restriction.lifted_by = now, person_id
    db.flush()
