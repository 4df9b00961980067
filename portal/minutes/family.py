"""The family's minutes: the approved sections shared with them that the policy lets them read.

Each section is decided (and recorded) for the family member on its own before
anything is decrypted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.service import Requester
from portal.cases.gate import case_facts
from portal.meetings.models import Meeting
from portal.minutes.models import Minutes, MinutesStatus
from portal.minutes.sections import (
    Opener,
    SectionView,
    decide_sections,
    readable_views,
    record_damaged,
    sections_of,
)
from portal.minutes.service import versions_of
from portal.policy import Action, Actor, decide
from portal.vault.service import Vault


@dataclass(frozen=True)
class FamilyMinutes:
    starts_at: datetime
    approved_at: datetime | None
    sections: list[SectionView]
    meeting_id: str = ""  # where the family's rectification and statements attach


def family_minutes(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                   case_id: str) -> list[FamilyMinutes]:
    """Approved sections shared with parents that the policy lets this family member read.

    The family page has already decided (and recorded) that they may see the case. Each
    section is decided on its own (ITEM_READ): a custodian or the pupil reads what is
    shared; a foster parent or parent let in by a consent (INFORMED) only what that
    consent names for them. Those with general information only read no item at all."""
    facts = case_facts(db, case_id, vault, now)
    if facts is None or not decide(actor, Action.FAMILY_GENERAL, facts).allowed:
        return []
    shown = []
    rows = db.execute(select(Minutes, Meeting.starts_at).join(Meeting, Meeting.id ==
                                                              Minutes.meeting_id)
                      .where(Minutes.case_id == facts.case_id)
                      .order_by(Meeting.starts_at.desc())).all()
    opener = Opener(db, vault, facts.case_id)
    for minutes, starts_at in rows:
        approved = [v for v in versions_of(db, minutes) if v.status is MinutesStatus.APPROVED]
        if not approved:
            continue
        decided = decide_sections(db, who, actor, now, facts, minutes, approved[-1],
                                  sections_of(db, approved[-1]),
                                  event_type="minutes.family.section")
        views, _ = readable_views(opener, decided, record_damaged(
            db, who, now, facts, minutes, approved[-1], event_type="minutes.family.section"))
        if views:
            shown.append(FamilyMinutes(starts_at, approved[-1].approved_at, views,
                                       meeting_id=minutes.meeting_id))
    return shown
