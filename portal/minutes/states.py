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
    # One query, one row per meeting's minutes: its latest version's status and
    # whether an autosaved draft exists, as subqueries.
    latest = (select(MinutesVersion.status)
              .where(MinutesVersion.minutes_id == Minutes.id)
              .order_by(MinutesVersion.version.desc()).limit(1)
              .correlate(Minutes).scalar_subquery())
    drafted = select(MinutesDraft.minutes_id).where(MinutesDraft.minutes_id == Minutes.id) \
        .correlate(Minutes).exists()
    found: dict[str, tuple[MinutesStatus | None, bool]] = {
        meeting_id: (status, has_draft) for meeting_id, status, has_draft in db.execute(
            select(Minutes.meeting_id, latest, drafted).where(Minutes.meeting_id.in_(ids)))}
    states: dict[str, MinutesState] = {}
    for meeting_id, starts_at in meetings:
        status, has_draft = found.get(meeting_id, (None, False))
        if status is not None:
            states[meeting_id] = _BY_STATUS[MinutesStatus(status)]
        elif has_draft:
            states[meeting_id] = MinutesState.DRAFT
        elif starts_at <= now:
            states[meeting_id] = MinutesState.TO_WRITE
    return states
