"""Where each meeting's minutes stand, for the case page: clear metadata only.

Reads ids, statuses and dates (never a heading, body or draft), so nothing is
decided or decrypted here; the caller shows these only beside meetings the
reader was already allowed to see.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.minutes.models import Minutes, MinutesDraft, MinutesStatus, MinutesVersion


class MinutesState(enum.StrEnum):
    TO_WRITE = "to_write"  # the meeting took place, nothing saved yet
    DRAFT = "draft"  # a draft version or an autosaved draft exists
    WAITING = "waiting"  # submitted, waiting for the chair's approval
    APPROVED = "approved"


_BY_STATUS = {MinutesStatus.DRAFT: MinutesState.DRAFT,
              MinutesStatus.SUBMITTED: MinutesState.WAITING,
              MinutesStatus.APPROVED: MinutesState.APPROVED}


def minutes_states(db: Session, meetings: Sequence[tuple[str, datetime]],
                   now: datetime) -> dict[str, MinutesState]:
    """Per meeting id (with its start), its minutes' state; a meeting still to come
    without minutes has none. The latest version decides; without versions an
    autosaved draft counts as a draft."""
    ids = [meeting_id for meeting_id, _ in meetings]
    if not ids:
        return {}
    minutes = dict(db.execute(select(Minutes.meeting_id, Minutes.id)
                              .where(Minutes.meeting_id.in_(ids))).all())
    latest: dict[str, MinutesStatus] = {}
    for minutes_id, status in db.execute(
            select(MinutesVersion.minutes_id, MinutesVersion.status)
            .where(MinutesVersion.minutes_id.in_(list(minutes.values())))
            .order_by(MinutesVersion.minutes_id, MinutesVersion.version)):
        latest[minutes_id] = status
    drafted = set(db.scalars(select(MinutesDraft.minutes_id)
                             .where(MinutesDraft.minutes_id.in_(list(minutes.values())))))
    states: dict[str, MinutesState] = {}
    for meeting_id, starts_at in meetings:
        found = minutes.get(meeting_id)
        if found is not None and found in latest:
            states[meeting_id] = _BY_STATUS[latest[found]]
        elif found in drafted:
            states[meeting_id] = MinutesState.DRAFT
        elif starts_at <= now:
            states[meeting_id] = MinutesState.TO_WRITE
    return states
