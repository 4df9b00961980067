"""Structured minutes: the one gate for a meeting's minutes, and reading a version.

Functions take the database session first and only ``flush()``; the request
boundary commits. Readers see each section only when the one policy allows it,
every decision on record (policy → access record → decryption). Writing is in
``portal.minutes.editor`` (the editor and its autosave) and
``portal.minutes.versions`` (saving, submitting and approving versions); the
family's reading in ``portal.minutes.family``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.cases.gate import case_facts, is_uuid
from portal.errors import N_, AccessDenied, InvalidInput
from portal.meetings.models import Meeting
from portal.minutes.models import Minutes, MinutesStatus, MinutesVersion
from portal.minutes.sections import (
    Opener,
    SectionView,
    decide_sections,
    readable_views,
    record_damaged,
    sections_of,
)
from portal.people.models import Person
from portal.policy import Action, Actor, CaseFacts, Decision, Deny, ItemFacts, decide
from portal.vault.service import Vault


@dataclass(frozen=True)
class Gate:
    facts: CaseFacts
    meeting: Meeting
    minutes: Minutes | None


def gate(db: Session, who: Requester, actor: Actor, now: datetime, meeting_id: str,
         action: Action, *, event_type: str, action_code: str,
         vault: Vault | None = None,
         check: Callable[[Session, Minutes | None], None] | None = None) -> Gate:
    """The one gate for a meeting's minutes: decide on the case, record, refuse or pass.

    The meeting's minute-taker is the item's owner, so the policy lets them write
    whatever their case role. Pass ``vault`` when sections will be decided next.
    ``check`` validates an allowed request before it is recorded: when it raises
    ``InvalidInput`` the record says "failed", not "allowed", as nothing is written.
    """
    meeting = db.get(Meeting, meeting_id) if is_uuid(meeting_id) else None
    facts = case_facts(db, meeting.case_id, vault, now) if meeting is not None else None
    minutes = None
    if meeting is None or facts is None:
        decision: Decision = Deny(reason="no_such_meeting", hide=True)
    else:
        decision = decide(actor, action, facts, ItemFacts(
            item_type="minutes", item_id=meeting.id, categories=frozenset(),
            owner_id=meeting.minute_taker_id))
        minutes = db.scalars(select(Minutes).where(Minutes.meeting_id == meeting.id)).first()
    if decision.allowed and check is not None and facts is not None:
        try:
            check(db, minutes)
        except InvalidInput:
            record(db, who, now, event_type=event_type, action=action_code, outcome="failed",
                   reason="invalid_input", case_id=facts.case_id, child_id=facts.child_id,
                   object_type="case", object_id=facts.case_id,
                   document_id=minutes.id if minutes else None)
            raise
    record(db, who, now, event_type=event_type, action=action_code, decision=decision,
           case_id=facts.case_id if facts else None,
           child_id=facts.child_id if facts else None, object_type="case",
           object_id=facts.case_id if facts else None,
           document_id=minutes.id if minutes else None)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    assert meeting is not None and facts is not None
    return Gate(facts=facts, meeting=meeting, minutes=minutes)


def _minutes(db: Session, g: Gate, actor: Actor, now: datetime) -> Minutes:
    if g.minutes is not None:
        return g.minutes
    minutes = Minutes(case_id=g.facts.case_id, meeting_id=g.meeting.id, created_at=now,
                      created_by=actor.person_id)
    db.add(minutes)
    db.flush()
    return minutes


def versions_of(db: Session, minutes: Minutes | None) -> list[MinutesVersion]:
    if minutes is None:
        return []
    return list(db.scalars(select(MinutesVersion).where(MinutesVersion.minutes_id == minutes.id)
                           .order_by(MinutesVersion.version)))


def names_of(db: Session, person_ids: Iterable[str | None]) -> dict[str, str]:
    wanted = {p for p in person_ids if p}
    return dict(db.execute(select(Person.id, Person.display_name)
                           .where(Person.id.in_(wanted))).all()) if wanted else {}


@dataclass(frozen=True)
class VersionSummary:
    version: int
    status: MinutesStatus
    created_at: datetime
    created_by: str
    approved_at: datetime | None
    approved_by: str | None
    correction_id: str | None


def summaries(db: Session, versions: list[MinutesVersion]) -> list[VersionSummary]:
    names = names_of(db, [v.created_by for v in versions] + [v.approved_by for v in versions])
    return [VersionSummary(v.version, v.status, v.created_at, names.get(v.created_by, "?"),
                           v.approved_at, names.get(v.approved_by or "", None),
                           v.correction_id) for v in versions]


# -- reading -------------------------------------------------------------------

def can(actor: Actor, action: Action, facts: CaseFacts, meeting: Meeting) -> bool:
    """What the page offers (buttons): the same policy, without a record of its own."""
    return decide(actor, action, facts, ItemFacts(
        item_type="minutes", item_id=meeting.id, categories=frozenset(),
        owner_id=meeting.minute_taker_id)).allowed


def read_version(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                 meeting_id: str, number: int | None, *, event_type: str
                 ) -> tuple[Gate, list[MinutesVersion], MinutesVersion | None,
                            list[SectionView], int]:
    """Gate, then the chosen version's sections the reader may see (default: the latest)."""
    g = gate(db, who, actor, now, meeting_id, Action.MEETING_VIEW, event_type=event_type,
             action_code="read", vault=vault)
    versions = versions_of(db, g.minutes)
    chosen = next((v for v in versions if v.version == number), None) if number else \
        (versions[-1] if versions else None)
    if number and chosen is None:
        raise InvalidInput({"version": N_("This version does not exist.")})
    if chosen is None or g.minutes is None:
        return g, versions, None, [], 0
    decided = decide_sections(db, who, actor, now, g.facts, g.minutes, chosen,
                              sections_of(db, chosen), event_type=f"{event_type}.section")
    views, hidden = readable_views(
        Opener(db, vault, g.facts.case_id), decided,
        record_damaged(db, who, now, g.facts, g.minutes, chosen,
                       event_type=f"{event_type}.section"))
    return g, versions, chosen, views, hidden
