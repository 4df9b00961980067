"""The minutes page of a meeting: the chosen version's readable sections and corrections."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from portal.audit.service import Requester
from portal.minutes.corrections import CorrectionView, corrections_for
from portal.minutes.models import MinutesStatus
from portal.minutes.sections import SectionView, unreadable_sections
from portal.minutes.service import VersionSummary, can, read_version, summaries
from portal.policy import Action, Actor
from portal.vault.service import Vault


@dataclass(frozen=True)
class MinutesPage:
    meeting_id: str
    case_id: str
    starts_at: datetime
    version: VersionSummary | None
    latest: VersionSummary | None
    sections: list[SectionView]
    hidden: int  # sections outside the reader's scope: a count, nothing else
    versions: list[VersionSummary]
    corrections: list[CorrectionView]
    can_write: bool
    can_approve: bool
    can_correct: bool
    # (position, categories) of the sections the reader cannot read: what blocks approval.
    blocking: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)

    @property
    def approvable(self) -> bool:
        return self.can_approve and self.version is not None and self.version == self.latest \
            and self.version.status is MinutesStatus.SUBMITTED

    @property
    def submittable(self) -> bool:
        return self.can_write and self.version is not None and self.version == self.latest \
            and self.version.status is MinutesStatus.DRAFT

    @property
    def correctable(self) -> bool:
        return self.can_correct and self.version is not None \
            and self.version.status is MinutesStatus.APPROVED


def view_minutes(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                 meeting_id: str, number: int | None = None) -> MinutesPage:
    g, versions, chosen, views, hidden = read_version(db, vault, who, actor, now, meeting_id,
                                                      number, event_type="minutes.view")
    listed = summaries(db, versions)
    can_approve = can(actor, Action.MINUTES_APPROVE, g.facts, g.meeting)
    blocking = unreadable_sections(db, actor, g.facts, g.minutes, chosen) \
        if can_approve and hidden and g.minutes is not None and chosen is not None else []
    return MinutesPage(
        meeting_id=g.meeting.id, case_id=g.facts.case_id, starts_at=g.meeting.starts_at,
        version=next((s for s in listed if chosen and s.version == chosen.version), None),
        latest=listed[-1] if listed else None, sections=views, hidden=hidden,
        versions=list(reversed(listed)),
        corrections=corrections_for(db, vault, who, actor, now, g),
        can_write=can(actor, Action.MINUTES_WRITE, g.facts, g.meeting),
        can_approve=can_approve, blocking=blocking,
        can_correct=can(actor, Action.MINUTES_CORRECT, g.facts, g.meeting))
