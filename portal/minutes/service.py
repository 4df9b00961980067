"""Structured minutes: policy → access record → (de)cryption, section by section.

Functions take the database session first and only ``flush()``; the request
boundary commits. The minute-taker (the meeting's, or a participant with the
minute-taker case role) writes; every save is a new version sealed under a
data key of its own; the chair approves, which freezes that version (nothing
ever changes an approved version; later edits make a new one). Readers see
each section only when the one policy allows it, every decision on record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.cases.gate import case_facts, is_uuid
from portal.consent.anonymous import Writer, guard_text, record_overrides
from portal.db import new_id
from portal.documents.models import CATEGORIES
from portal.errors import N_, AccessDenied, InvalidInput
from portal.meetings.models import Meeting
from portal.minutes import forms
from portal.minutes.drafts import draft_binding, open_draft, recorded_saves
from portal.minutes.models import (
    Minutes,
    MinutesDraft,
    MinutesSection,
    MinutesStatus,
    MinutesVersion,
    SectionKind,
    SectionNature,
)
from portal.minutes.sections import (
    ITEM_TYPE,
    Lineage,
    Opener,
    SectionText,
    SectionView,
    as_author,
    carried_over,
    decide_sections,
    lineage,
    readable_views,
    record_damaged,
    seal_section,
    sections_of,
)
from portal.notifications import events as notifications
from portal.people.models import Person
from portal.policy import Action, Actor, CaseFacts, Decision, Deny, ItemFacts, decide
from portal.vault.service import WITH_ACCESS_FACTS, FieldKey, Vault


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


# -- writing -------------------------------------------------------------------

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


def _minutes(db: Session, g: Gate, actor: Actor, now: datetime) -> Minutes:
    if g.minutes is not None:
        return g.minutes
    minutes = Minutes(case_id=g.facts.case_id, meeting_id=g.meeting.id, created_at=now,
                      created_by=actor.person_id)
    db.add(minutes)
    db.flush()
    return minutes


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


def new_version(db: Session, vault: Vault, minutes: Minutes, number: int, author: str,
                now: datetime, status: MinutesStatus = MinutesStatus.DRAFT
                ) -> tuple[MinutesVersion, FieldKey]:
    version = MinutesVersion(id=new_id(), minutes_id=minutes.id, version=number,
                             status=status, data_key_id="", created_at=now, created_by=author)
    key = vault.new_key(db, "minutes_version", version.id, now)
    version.data_key_id = key.id
    db.add(version)
    db.flush()
    return version, key


def save_version(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                 meeting_id: str, form: Mapping[str, str], *,
                 confirm_identifiers: bool = False) -> int:
    """Store the editor's form as a new version; returns its number.

    Sections the writer may not read are carried over untouched (their
    ciphertext, never decrypted); a readable section the form did not change
    keeps its ciphertext too; everything else is sealed under the new
    version's data key. In an anonymous case every new or changed heading and
    body goes through the identifier check first (nothing is written if it finds
    something the writer did not confirm)."""
    g = gate(db, who, actor, now, meeting_id, Action.MINUTES_WRITE, event_type="minutes.save",
             action_code="create", vault=vault)
    parsed = forms.parse_slots(form)
    slots = forms.validate(parsed)
    index = {id(slot): i for i, slot in enumerate(parsed)}
    versions = versions_of(db, g.minutes)
    opener = Opener(db, vault, g.facts.case_id)
    by_key = {s.key: s for s in slots if s.key}
    # (the section of the latest version or None, the slot writing it or None to carry over)
    plan: list[tuple[MinutesSection | None, forms.Slot | None]] = []
    if versions and g.minutes is not None:
        for section, decision in decide_sections(
                db, who, actor, now, g.facts, g.minutes, versions[-1],
                sections_of(db, versions[-1]), event_type="minutes.save.section",
                action_code="update"):
            slot = by_key.pop(section.section_key, None)
            if not decision.allowed or slot is None:
                plan.append((section, None))
            elif not slot.remove:
                plan.append((section, slot))
    for slot in slots:
        if slot.remove or (slot.key and slot.key not in by_key):
            continue  # removed, or an existing section handled above
        plan.append((None, slot))
    unchanged = {id(slot) for old, slot in plan if old is not None and slot is not None
                 and opener.text(old) == SectionText(slot.heading.strip(), slot.body.strip())}
    confirmed: dict[str, tuple[str, ...]] = {}
    if g.facts.anonymous:
        texts = {}
        for _, slot in plan:
            if slot is not None and id(slot) not in unchanged:
                texts[f"s{index[id(slot)]}_heading"] = slot.heading.strip()
                texts[f"s{index[id(slot)]}_body"] = slot.body.strip()
        confirmed = guard_text(db, vault, Writer(who, actor, g.facts.case_id), texts, now,
                               confirmed=confirm_identifiers)
    minutes = _minutes(db, g, actor, now)
    version, key = new_version(db, vault, minutes, (versions[-1].version if versions else 0) + 1,
                               actor.person_id, now)
    rows: list[MinutesSection] = []
    keys_by_field: dict[str, str] = {}
    for old, slot in plan:
        if slot is None:
            assert old is not None
            rows.append(carried_over(old, version.id, len(rows)))
            continue
        row = _written(vault, key, g.facts.case_id, version, old, slot, len(rows),
                       keep=id(slot) in unchanged)
        for field in ("heading", "body"):
            keys_by_field[f"s{index[id(slot)]}_{field}"] = f"{row.section_key}:{field}"
        rows.append(row)
    db.add_all(rows)
    db.flush()
    # The override names the section and field, never the text.
    record_overrides(db, g.facts.case_id, actor.person_id,
                     {f"minutes_section:{keys_by_field[field]}": kinds
                      for field, kinds in confirmed.items()}, now)
    discard_draft(db, vault, minutes, actor.person_id)
    return version.version


def _written(vault: Vault, key: FieldKey, case_id: str, version: MinutesVersion,
             old: MinutesSection | None, slot: forms.Slot, position: int, *,
             keep: bool) -> MinutesSection:
    heading, body = slot.heading.strip(), slot.body.strip()
    row = MinutesSection(version_id=version.id, position=position,
                         section_key=old.section_key if old else new_id(),
                         kind=SectionKind(slot.kind), nature=SectionNature(slot.nature),
                         shared_with_parents=slot.shared,
                         categories=",".join(sorted(slot.categories)),
                         sealed_version=version.version)
    if old is not None and keep and (old.categories, old.shared_with_parents) == \
            (row.categories, row.shared_with_parents):
        # Text and access facts unchanged: the same ciphertext, key and binding.
        # (New categories or sharing are bound to the text, so they re-seal it.)
        row.heading_ct, row.body_ct = old.heading_ct, old.body_ct
        row.sealed_version, row.data_key_id = old.sealed_version, old.data_key_id
        row.binding = old.binding
        return row
    seal_section(vault, key, case_id, row, heading, body)
    return row


def submit(db: Session, who: Requester, actor: Actor, now: datetime, meeting_id: str) -> None:
    """The minute-taker offers the latest version for approval."""
    def check(db: Session, minutes: Minutes | None) -> None:
        versions = versions_of(db, minutes)
        if not versions or versions[-1].status is not MinutesStatus.DRAFT:
            raise InvalidInput({"version": N_("There is no draft version to submit.")})

    g = gate(db, who, actor, now, meeting_id, Action.MINUTES_WRITE,
             event_type="minutes.submit", action_code="update", check=check)
    latest = versions_of(db, g.minutes)[-1]
    latest.status = MinutesStatus.SUBMITTED
    latest.submitted_at = now
    db.flush()
    notifications.minutes_submitted(db, now, g.facts.case_id, meeting_id, actor.person_id)


CANNOT_APPROVE_UNREAD = N_("You cannot read every section of this version, so you cannot "
                           "approve it. Ask a colleague who can read them all to approve it.")


def approve(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
            meeting_id: str, number: int) -> None:
    """The chair approves the version they reviewed, only when they may read every section
    of it (nobody approves what they cannot read); from now on it never changes."""
    def check(db: Session, minutes: Minutes | None) -> None:
        versions = versions_of(db, minutes)
        latest = versions[-1] if versions else None
        if latest is None or latest.version != number:
            raise InvalidInput({"version": N_("A newer version exists; review that one.")})
        if latest.status is not MinutesStatus.SUBMITTED:
            raise InvalidInput({"version": N_("Only a submitted version can be approved.")})
        assert minutes is not None  # it has a version
        facts = case_facts(db, minutes.case_id, vault, now)
        assert facts is not None  # the gate found the case
        decided = decide_sections(db, who, actor, now, facts, minutes, latest,
                                  sections_of(db, latest), event_type="minutes.approve.section")
        if not all(decision.allowed for _, decision in decided):
            raise InvalidInput({"version": CANNOT_APPROVE_UNREAD})

    g = gate(db, who, actor, now, meeting_id, Action.MINUTES_APPROVE,
             event_type="minutes.approve", action_code="update", check=check,
             vault=vault)
    latest = versions_of(db, g.minutes)[-1]
    latest.status = MinutesStatus.APPROVED
    latest.approved_at, latest.approved_by = now, actor.person_id
    db.flush()
    notifications.minutes_approved(db, now, g.facts.case_id, g.meeting.id, latest.id,
                                   actor.person_id)


# -- the family ------------------------------------------------------------------

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
