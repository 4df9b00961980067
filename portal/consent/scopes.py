"""Loading a case's scoped legal grounds as the engine reads them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.consent.access import local_date
from portal.consent.engine import ConsentInputError, ScopedGround
from portal.consent.models import CaseGround


def scoped_grounds(db: Session, case_id: str) -> tuple[ScopedGround, ...]:
    """Every ground ever invoked on the case; an ended one covers nothing from its end."""
    rows = db.scalars(select(CaseGround).where(CaseGround.case_id == case_id)
                      .order_by(CaseGround.invoked_at, CaseGround.id)).all()
    return tuple(g for g in map(engine_ground, rows) if g is not None)


def engine_ground(row: CaseGround) -> ScopedGround | None:
    try:
        return ScopedGround(
            basis=row.basis, recipients=frozenset(row.recipients),
            categories=frozenset(row.categories), valid_from=row.valid_from,
            valid_until=row.valid_until,
            ended_on=local_date(row.ended_at) if row.ended_at else None, id=row.id)
    except ConsentInputError:
        return None  # an inconsistent row grants nothing (fail closed)
