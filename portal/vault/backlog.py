"""The DPO's view of erasures that backups taken before them could still undo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.errors import AccessDenied
from portal.policy import Action, Actor, Deny, decide
from portal.vault import epochs


@dataclass(frozen=True)
class ErasureBacklog:
    debts: list[epochs.ErasureDebt]
    deadline: datetime | None  # the key epoch must have run by then
    overdue: bool
    epoch_days: int


def erasure_backlog(db: Session, who: Requester, actor: Actor, now: datetime,
                    epoch_days: int) -> ErasureBacklog:
    """Dates and counts only (no content, no case): decided and recorded like every DPO page."""
    decision = decide(actor, Action.DPO_REVIEW)
    record(db, who, now, event_type="keys.erasures.view", action="read", decision=decision)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    pending = epochs.outstanding(db, epoch_days)
    return ErasureBacklog(debts=epochs.debts(db, epoch_days), deadline=pending.deadline,
                          overdue=pending.overdue(now), epoch_days=epoch_days)
