"""Changing a meeting agenda's categories: the consequence first, then the change (issue 12).

Before the categories change, the portal computes with the same policy that
decides the reads (``ITEM_READ`` on the agenda, each participant with the
case's consent facts) who would no longer see the agenda, and who would
newly see it. Nothing changes until the chair confirms; the preview and the
change are both recorded. Only someone who may schedule *and* may read the
agenda as it is can change it: otherwise a change of categories would be a
way to read it. The change re-seals the agenda under the meeting's own key
with the new categories bound (``binding`` 2), so the row stays consistent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from crypto import DecryptionError
from portal.audit.service import Requester, record
from portal.cases.gate import case_facts
from portal.cases.preview import _actors
from portal.consent.status import ordered_categories
from portal.errors import N_, AccessDenied, InvalidInput
from portal.meetings.binding import meeting_key, open_agenda, record_failed, seal_meeting
from portal.meetings.models import Meeting, MeetingStatus
from portal.meetings.service import _meeting, parse_categories
from portal.people.names import names_of
from portal.policy import Action, Actor, CaseFacts, Deny, ItemFacts, decide
from portal.vault.service import Vault

EVENT = "meeting.categories.change"


@dataclass(frozen=True)
class Reader:
    person_id: str
    name: str


@dataclass(frozen=True)
class CategoryChange:
    meeting_id: str
    case_id: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    losing: tuple[Reader, ...]  # may read the agenda now, not after (the actor first)
    gaining: tuple[Reader, ...]  # may not read it now, will after

    @property
    def changes(self) -> bool:
        return self.before != self.after


class AgendaDamaged(Exception):
    """The agenda did not open (damaged, or edited in the database); on record, unchanged."""


class CategoryConfirmationNeeded(Exception):
    """The chair has not confirmed the consequence yet; nothing was changed."""

    def __init__(self, change: CategoryChange) -> None:
        super().__init__("confirmation needed")
        self.change = change


def _agenda(meeting: Meeting, categories: Sequence[str]) -> ItemFacts:
    return ItemFacts(item_type="meeting_agenda", item_id=meeting.id,
                     categories=frozenset(categories))


def _editable(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
              meeting_id: str, action_code: str) -> tuple[Meeting, CaseFacts]:
    """The meeting, if the actor may schedule in its case and read its agenda (recorded)."""
    meeting = _meeting(db, who, actor, now, meeting_id, Action.MEETING_SCHEDULE, EVENT,
                       action_code)
    facts = case_facts(db, meeting.case_id, vault, now)
    assert facts is not None  # the meeting's case exists: foreign key
    item = _agenda(meeting, meeting.agenda_categories)
    decision = decide(actor, Action.ITEM_READ, facts, item)
    record(db, who, now, event_type="meeting.agenda.read", action="read", decision=decision,
           case_id=facts.case_id, child_id=facts.child_id, object_type=item.item_type,
           object_id=meeting.id, data_categories=sorted(item.categories))
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    if meeting.status is not MeetingStatus.SCHEDULED:
        raise InvalidInput({"category": N_("A cancelled meeting cannot be changed.")})
    return meeting, facts


def category_form(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                  meeting_id: str) -> tuple[str, str, tuple[str, ...]]:
    """(meeting id, case id, its categories now) for the change form."""
    meeting, facts = _editable(db, vault, who, actor, now, meeting_id, "read")
    return meeting.id, facts.case_id, ordered_categories(meeting.agenda_categories)


def _readers(db: Session, actor: Actor, facts: CaseFacts, meeting: Meeting,
             categories: Sequence[str]) -> set[str]:
    """Who among the case's participants may read the agenda under ``categories``."""
    people = sorted(facts.participants)
    actors = _actors(db, [p for p in people if p != actor.person_id])
    actors[actor.person_id] = actor
    item = _agenda(meeting, categories)
    return {p for p in people if p in actors
            and decide(actors[p], Action.ITEM_READ, facts, item).allowed}


def _consequence(db: Session, vault: Vault, actor: Actor, facts: CaseFacts, meeting: Meeting,
                 after: tuple[str, ...]) -> CategoryChange:
    before = ordered_categories(meeting.agenda_categories)
    now_read = _readers(db, actor, facts, meeting, before)
    then_read = _readers(db, actor, facts, meeting, after)
    names = names_of(db, vault, sorted(now_read ^ then_read))

    def readers(ids: set[str]) -> tuple[Reader, ...]:
        return tuple(sorted((Reader(p, names.get(p, "?")) for p in ids),
                            key=lambda r: (r.person_id != actor.person_id, r.name)))

    return CategoryChange(meeting.id, facts.case_id, before, after,
                          readers(now_read - then_read), readers(then_read - now_read))


def change_categories(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                      meeting_id: str, chosen: Sequence[str], *,
                      confirmed: bool) -> CategoryChange:
    """Preview (``confirmed`` false: raises ``CategoryConfirmationNeeded``, nothing changed)
    or make the change; both recorded."""
    meeting, facts = _editable(db, vault, who, actor, now, meeting_id,
                               "update" if confirmed else "read")
    after = parse_categories(chosen)
    if after is None:
        raise InvalidInput({"category": N_("Choose what kind of information the agenda holds.")})
    change = _consequence(db, vault, actor, facts, meeting, after)
    if not confirmed:
        record(db, who, now, event_type="meeting.categories.preview", action="read",
               outcome="allowed", case_id=facts.case_id, child_id=facts.child_id,
               object_type="meeting_agenda", object_id=meeting.id, data_categories=after)
        raise CategoryConfirmationNeeded(change)
    if not change.changes:
        return change
    try:
        key = meeting_key(db, vault, meeting)
        agenda = open_agenda(db, vault, meeting, key)  # under the old categories' binding
    except DecryptionError:  # damaged, or edited in the database: nothing re-sealed
        record_failed(db, who, now, facts, event_type=EVENT, action="update",
                      object_type="meeting_agenda", object_id=meeting.id,
                      categories=change.before)
        raise AgendaDamaged(meeting.id) from None
    meeting.agenda_categories = list(after)
    seal_meeting(vault, key, meeting, agenda=agenda)
    record(db, who, now, event_type=EVENT, action="update", outcome="allowed",
           case_id=facts.case_id, child_id=facts.child_id, object_type="meeting_agenda",
           object_id=meeting.id, data_categories=after,
           reason="from:" + ",".join(change.before)[:59])
    db.flush()
    return change
