"""Loading a case's scoped legal grounds as the engine reads them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.cases.loaded import remember, remembered
from portal.consent.access import local_date
from portal.consent.engine import ConsentInputError, ScopedGround
from portal.consent.models import CaseGround


def scoped_grounds(db: Session, case_id: str) -> tuple[ScopedGround, ...]:
    """Every ground ever invoked on the case; an ended one covers nothing from its end.
    Once per transaction until a write (portal.cases.loaded)."""
    return remembered(db, ("grounds", case_id), lambda: _grounds(db.scalars(
        select(CaseGround).where(CaseGround.case_id == case_id)
        .order_by(CaseGround.invoked_at, CaseGround.id))))


def preload_scoped_grounds(db: Session, case_ids: list[str]) -> None:
    """``scoped_grounds`` of many cases in one query, kept as each would have been."""
    found: dict[str, list[CaseGround]] = {case_id: [] for case_id in case_ids}
    for row in db.scalars(select(CaseGround).where(CaseGround.case_id.in_(case_ids))
                          .order_by(CaseGround.invoked_at, CaseGround.id)):
        found[row.case_id].append(row)
    for case_id, rows in found.items():
        remember(db, ("grounds", case_id), _grounds(rows))


def _grounds(rows: Iterable[CaseGround]) -> tuple[ScopedGround, ...]:
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
