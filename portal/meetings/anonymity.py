"""The identifier check for meeting and action-item text written into an anonymous case.

Policy lets every participant of an anonymous case read its content without a
consent (nobody in it is recognisable), so a child's name typed into a place,
an agenda or an action item would reach all of them. The same check, confirm
box and override record as minutes (:mod:`portal.documents.minutes`) apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from portal.audit.service import Requester
from portal.consent.anonymous import Writer, guard_text, record_overrides
from portal.policy import Actor, CaseFacts
from portal.vault.service import Vault


def guard(db: Session, vault: Vault, who: Requester, actor: Actor, facts: CaseFacts,
          texts: Mapping[str, str], now: datetime,
          confirmed: bool) -> dict[str, tuple[str, ...]]:
    """Raise ``IdentifiersFound`` (nothing saved) unless clean or confirmed; named cases pass."""
    if not facts.anonymous:
        return {}
    return guard_text(db, vault, Writer(who, actor, facts.case_id),
                      {f: t for f, t in texts.items() if t}, now, confirmed=confirmed)


def record_confirmed(db: Session, facts: CaseFacts, owner: str, owner_id: str, actor: Actor,
                     confirmed: Mapping[str, tuple[str, ...]], now: datetime) -> None:
    # The override names the meeting or item and the field, never the text.
    record_overrides(db, facts.case_id, actor.person_id,
                     {f"{owner}:{owner_id}:{field}": kinds
                      for field, kinds in confirmed.items()}, now)
