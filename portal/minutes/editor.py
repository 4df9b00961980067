"""The minutes editor: what the writer sees, and the autosaved draft behind it.

The editor shows the author's autosaved draft when every section of it is still
readable to them, else the latest version's sections they may read; each draft
section is decided and recorded like a version's. Autosave seals the whole form
under the draft's own key, one row per (minutes, author).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.db import new_id
from portal.documents.models import CATEGORIES
from portal.minutes import forms
from portal.minutes.drafts import draft_binding, open_draft, recorded_saves
from portal.minutes.models import Minutes, MinutesDraft, SectionKind, SectionNature
from portal.minutes.sections import (
    ITEM_TYPE,
    Lineage,
    Opener,
    as_author,
    decide_sections,
    lineage,
    readable_views,
    sections_of,
)
from portal.minutes.service import Gate, _minutes, gate, versions_of
from portal.policy import Action, Actor, Decision, Deny, ItemFacts, decide
from portal.vault.service import WITH_ACCESS_FACTS, Vault


@dataclass(frozen=True)
class Editor:
    meeting_id: str
    case_id: str
    starts_at: datetime
    slots: list[forms.Slot]
    hidden: int
    base_version: int
    draft_saved_at: datetime | None
    # A draft exists but holds sections outside the writer's current access: kept, not shown.
    draft_withheld: bool = False
    kinds: tuple[str, ...] = tuple(k.value for k in SectionKind)
    natures: tuple[str, ...] = tuple(n.value for n in SectionNature)
    categories: tuple[str, ...] = CATEGORIES


def _draft(db: Session, minutes: Minutes | None, author_id: str) -> MinutesDraft | None:
    if minutes is None:
        return None
    return db.scalars(select(MinutesDraft).where(MinutesDraft.minutes_id == minutes.id,
                                                 MinutesDraft.author_id == author_id)).first()


def editor(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
           meeting_id: str) -> Editor:
    """The editor: the author's autosaved draft if there is one and every section of it is
    still readable, else the latest version's sections the writer may read (the others
    are kept as they are on save)."""
    g = gate(db, who, actor, now, meeting_id, Action.MINUTES_WRITE, event_type="minutes.edit",
             action_code="read", vault=vault)
    versions = versions_of(db, g.minutes)
    slots: list[forms.Slot] = []
    hidden = 0
    line = lineage(db, g.minutes) if g.minutes is not None else None
    if versions and g.minutes is not None:
        decided = decide_sections(db, who, actor, now, g.facts, g.minutes, versions[-1],
                                  sections_of(db, versions[-1]),
                                  event_type="minutes.edit.section", line=line)
        views, hidden = readable_views(Opener(db, vault, g.facts.case_id), decided)
        slots = [forms.Slot(key=v.key, heading=v.heading, body=v.body, kind=v.kind.value,
                            nature=v.nature.value, shared=v.shared_with_parents,
                            categories=v.categories) for v in views]
    draft = _draft(db, g.minutes, actor.person_id)
    withheld = False
    if draft is not None and line is not None:
        decisions = _decide_draft(db, who, actor, now, g, draft, line)
        if decisions and all(d.allowed for d in decisions):
            opened = open_draft(db, vault, who, now, g.facts, draft)
            slots = slots if opened is None else opened
        withheld = bool(decisions) and not all(d.allowed for d in decisions)
    return Editor(meeting_id=g.meeting.id, case_id=g.facts.case_id,
                  starts_at=g.meeting.starts_at, slots=forms.with_empty_slots(slots),
                  hidden=hidden, base_version=versions[-1].version if versions else 0,
                  draft_saved_at=draft.saved_at if draft else None, draft_withheld=withheld)


def _decide_draft(db: Session, who: Requester, actor: Actor, now: datetime, g: Gate,
                  draft: MinutesDraft, line: Lineage) -> list[Decision]:
    """Each section of the draft decided (and recorded) like a section of a version.

    A draft may hold text copied from sections the writer could read when it was
    saved; a restriction, a withdrawn or expired consent, an ended break-glass grant
    or a reclassified section since then must keep it shut. A section of the draft
    is decided on its own categories and those of every version of the same section;
    a new one without any yet on the meeting's agenda categories."""
    if draft.sections is None:
        decision: Decision = Deny(reason="draft_facts_missing")
        record(db, who, now, event_type="minutes.draft.open", action="read",
               decision=decision, case_id=g.facts.case_id, child_id=g.facts.child_id,
               object_type="minutes_draft", object_id=draft.id, document_id=draft.minutes_id)
        return [decision]
    decisions = []
    minutes = g.minutes
    assert minutes is not None  # a draft belongs to its minutes
    for key, own in draft.sections:
        categories = line.categories(key, (c for c in own.split(",") if c)) \
            or frozenset(g.meeting.agenda_categories)
        decision = decide(actor, Action.ITEM_READ, g.facts, ItemFacts(
            item_type=ITEM_TYPE, item_id=key or draft.id, categories=categories))
        if not decision.allowed and (not key or line.written_only_by(key, actor.person_id)):
            # The draft is the author's own; a section copied from another's is not.
            decision = as_author(db, actor, g.facts, minutes, decision)
        record(db, who, now, event_type="minutes.draft.open", action="read",
               decision=decision, case_id=g.facts.case_id, child_id=g.facts.child_id,
               object_type="minutes_draft", object_id=draft.id, document_id=draft.minutes_id,
               data_categories=sorted(categories))
        decisions.append(decision)
    return decisions


def editor_after_error(db: Session, who: Requester, actor: Actor, now: datetime,
                       meeting_id: str, form: Mapping[str, str]) -> Editor:
    """Re-show what was typed (the save was refused for invalid input)."""
    g = gate(db, who, actor, now, meeting_id, Action.MINUTES_WRITE, event_type="minutes.edit",
             action_code="read")
    return Editor(meeting_id=g.meeting.id, case_id=g.facts.case_id,
                  starts_at=g.meeting.starts_at, slots=forms.parse_slots(form), hidden=0,
                  base_version=0, draft_saved_at=None)


def save_draft(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
               meeting_id: str, form: Mapping[str, str]) -> datetime:
    """Autosave: the whole form, encrypted, one row per (minutes, author), replaced each time."""
    g = gate(db, who, actor, now, meeting_id, Action.MINUTES_WRITE,
             event_type="minutes.draft.save", action_code="update")
    minutes = _minutes(db, g, actor, now)
    parsed = forms.parse_slots(form)
    content = forms.to_json(parsed)
    draft = _draft(db, minutes, actor.person_id)
    if draft is None:
        draft = MinutesDraft(id=new_id(), minutes_id=minutes.id, author_id=actor.person_id,
                             data_key_id="", content_ct=b"", saved_at=now)
        key = vault.new_key(db, "minutes_draft", draft.id, now)
        draft.data_key_id = key.id
        db.add(draft)
    else:
        key = vault.key_by_id(db, draft.data_key_id, owner=("minutes_draft", draft.id))
    draft.sections = [[slot.key, ",".join(sorted(slot.categories))]
                      for slot in parsed if not slot.empty]
    draft.binding = WITH_ACCESS_FACTS
    draft.counter = recorded_saves(db, actor.person_id, g.facts.case_id, minutes.id)
    draft.content_ct = vault.seal(key, content, draft_binding(g.facts.case_id, draft))
    draft.saved_at = now
    db.flush()
    return now


def discard_draft(db: Session, vault: Vault, minutes: Minutes, author_id: str) -> None:
    draft = _draft(db, minutes, author_id)
    if draft is not None:
        key_id = draft.data_key_id
        db.delete(draft)
        db.flush()
        vault.destroy(db, [key_id])
