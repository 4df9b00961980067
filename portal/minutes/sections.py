"""One minutes section: its facts for the policy, its access record, its ciphertext.

Every section is an item of its own (``ItemFacts(item_type="minutes_section")``):
each reader's decision on it is recorded, allowed or denied, before anything
of it is decrypted. Heading and body are bound to (case, section identity, the
version that sealed them, field), so a ciphertext moved to another section,
case or field does not decrypt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import Binding, DecryptionError
from portal.audit.service import Requester, record
from portal.documents import markdown
from portal.meetings.models import Meeting
from portal.minutes.models import (
    Minutes,
    MinutesSection,
    MinutesVersion,
    SectionKind,
    SectionNature,
)
from portal.policy import Action, Actor, Allow, CaseFacts, Decision, ItemFacts, decide
from portal.vault.service import WITH_ACCESS_FACTS, FieldKey, Vault, access_context

ITEM_TYPE = "minutes_section"

log = logging.getLogger("portal.minutes")


def section_binding(case_id: str, section_key: str, sealed_version: int, field: str,
                    section: MinutesSection | None = None) -> Binding:
    """Where a section's text belongs; with binding 2 also its categories and sharing flag.

    A row sealed with binding 2 fails to open once either column (or the
    ``binding`` column itself) was edited: access cannot be widened in the
    database without making the text unreadable."""
    context = () if section is None or section.binding < WITH_ACCESS_FACTS else \
        access_context(section.categories, section.shared_with_parents)
    return Binding(purpose="minutes-section", case_id=case_id, object_type=ITEM_TYPE,
                   object_id=section_key, version=sealed_version, field=field, context=context)


def categories_of(section: MinutesSection) -> tuple[str, ...]:
    return tuple(c for c in section.categories.split(",") if c)


@dataclass(frozen=True)
class Lineage:
    """What every version says about each section identity: (version, categories, shared).

    A section is decided on the most restrictive facts of its whole line, so
    reclassifying it (to health, say) or unsharing it also protects the copies
    of its text in older versions, the history, the PDF and its corrections."""

    entries: dict[str, list[tuple[int, frozenset[str], bool]]]
    # Who saved each version holding the section: its author sees it while writing.
    writers: dict[str, frozenset[str]] = field(default_factory=dict)

    def written_only_by(self, section_key: str, person_id: str) -> bool:
        return self.writers.get(section_key) == frozenset({person_id})

    def categories(self, section_key: str, own: Iterable[str] = ()) -> frozenset[str]:
        found = set(own)
        for _, categories, _ in self.entries.get(section_key, []):
            found |= categories
        return frozenset(found)

    def shared(self, section_key: str, from_version: int) -> bool:
        # Shared with parents only while every version from this one on still says so.
        return all(shared for number, _, shared in self.entries.get(section_key, [])
                   if number >= from_version)


def lineage(db: Session, minutes: Minutes) -> Lineage:
    entries: dict[str, list[tuple[int, frozenset[str], bool]]] = {}
    writers: dict[str, set[str]] = {}
    for key, number, categories, shared, writer in db.execute(
            select(MinutesSection.section_key, MinutesVersion.version,
                   MinutesSection.categories, MinutesSection.shared_with_parents,
                   MinutesVersion.created_by)
            .join(MinutesVersion, MinutesVersion.id == MinutesSection.version_id)
            .where(MinutesVersion.minutes_id == minutes.id)
            .order_by(MinutesVersion.version)):
        entries.setdefault(key, []).append(
            (number, frozenset(c for c in categories.split(",") if c), shared))
        writers.setdefault(key, set()).add(writer)
    return Lineage(entries, {key: frozenset(people) for key, people in writers.items()})


# A restriction (or facts that could not be loaded) shuts the author out too.
AUTHOR_CANNOT_OVERRIDE = frozenset({"restricted", "consent_facts_missing"})


def as_author(db: Session, actor: Actor, facts: CaseFacts, minutes: Minutes,
              denied: Decision) -> Decision:
    """A section or draft nobody but ``actor`` wrote stays readable to them while the
    policy lets them write these minutes; otherwise the item-level ``denied`` stands.
    Nobody else gains anything: the caller checks sole authorship first."""
    if denied.allowed or getattr(denied, "reason", "") in AUTHOR_CANNOT_OVERRIDE:
        return denied
    meeting = db.get_one(Meeting, minutes.meeting_id)
    write = decide(actor, Action.MINUTES_WRITE, facts, ItemFacts(
        item_type="minutes", item_id=meeting.id, categories=frozenset(),
        owner_id=meeting.minute_taker_id))
    if not isinstance(write, Allow):
        return denied
    return Allow(basis=f"author:own_writing;{write.basis}"[:200])


def item_facts(section: MinutesSection, version: MinutesVersion, line: Lineage) -> ItemFacts:
    return ItemFacts(item_type=ITEM_TYPE, item_id=section.section_key,
                     categories=line.categories(section.section_key, categories_of(section)),
                     shared_with_parents=section.shared_with_parents
                     and line.shared(section.section_key, version.version))


def sections_of(db: Session, version: MinutesVersion) -> list[MinutesSection]:
    return list(db.scalars(select(MinutesSection).where(MinutesSection.version_id == version.id)
                           .order_by(MinutesSection.position)))


def decide_section(db: Session, actor: Actor, facts: CaseFacts, minutes: Minutes,
                   item: ItemFacts, line: Lineage) -> Decision:
    """One section's decision (not recorded): the item-level policy, or sole authorship."""
    decision = decide(actor, Action.ITEM_READ, facts, item)
    if not decision.allowed and line.written_only_by(item.item_id, actor.person_id):
        decision = as_author(db, actor, facts, minutes, decision)
    return decision


def unreadable_sections(db: Session, actor: Actor, facts: CaseFacts, minutes: Minutes,
                        version: MinutesVersion) -> list[tuple[int, tuple[str, ...]]]:
    """(position from 1, categories) of each section of ``version`` the actor may not read:
    what blocks their approval. Metadata only, nothing decrypted."""
    line = lineage(db, minutes)
    return [(number, tuple(sorted(item.categories)))
            for number, section in enumerate(sections_of(db, version), start=1)
            for item in (item_facts(section, version, line),)
            if not decide_section(db, actor, facts, minutes, item, line).allowed]


def decide_sections(db: Session, who: Requester, actor: Actor, now: datetime,
                    facts: CaseFacts, minutes: Minutes, version: MinutesVersion,
                    sections: Iterable[MinutesSection], *, event_type: str,
                    action_code: str = "read", line: Lineage | None = None
                    ) -> list[tuple[MinutesSection, Decision]]:
    """The one policy per section, each decision on record (allowed and denied)."""
    line = line if line is not None else lineage(db, minutes)
    decided = []
    for section in sections:
        item = item_facts(section, version, line)
        decision = decide_section(db, actor, facts, minutes, item, line)
        record(db, who, now, event_type=event_type, action=action_code, decision=decision,
               case_id=facts.case_id, child_id=facts.child_id, object_type=ITEM_TYPE,
               object_id=section.section_key, document_id=minutes.id,
               document_version=version.version, data_categories=sorted(item.categories))
        decided.append((section, decision))
    return decided


@dataclass(frozen=True)
class SectionText:
    heading: str
    body: str


@dataclass(frozen=True)
class SectionView:
    key: str
    kind: SectionKind
    nature: SectionNature
    shared_with_parents: bool
    categories: tuple[str, ...]
    heading: str
    body: str

    @property
    def body_html(self) -> Markup:
        return markdown.render(self.body)


class Opener:
    """Decrypts sections a caller was allowed (and recorded) to read; keys unwrapped once."""

    def __init__(self, db: Session, vault: Vault, case_id: str) -> None:
        self.db, self.vault, self.case_id = db, vault, case_id
        self._keys: dict[str, FieldKey] = {}

    def key(self, key_id: str) -> FieldKey:
        if key_id not in self._keys:
            self._keys[key_id] = self.vault.key_by_id(self.db, key_id)
        return self._keys[key_id]

    def text(self, section: MinutesSection) -> SectionText:
        key = self.key(section.data_key_id)

        def field(name: str, blob: bytes) -> str:
            return self.vault.open(self.db, blob, section_binding(
                self.case_id, section.section_key, section.sealed_version, name, section), key)

        return SectionText(field("heading", section.heading_ct), field("body", section.body_ct))

    def view(self, section: MinutesSection) -> SectionView:
        text = self.text(section)
        return SectionView(key=section.section_key, kind=section.kind, nature=section.nature,
                           shared_with_parents=section.shared_with_parents,
                           categories=categories_of(section), heading=text.heading,
                           body=text.body)


def readable_views(opener: Opener, decided: Sequence[tuple[MinutesSection, Decision]],
                   failed: Callable[[MinutesSection], None] | None = None
                   ) -> tuple[list[SectionView], int]:
    """The allowed sections decrypted, and how many were withheld (a count only).

    With ``failed``, a section whose text does not authenticate (damaged, or
    its categories or sharing edited in the database) is withheld too and
    handed to ``failed`` to be recorded; without, ``DecryptionError`` propagates.
    """
    views = []
    for section, decision in decided:
        if not decision.allowed:
            continue
        try:
            views.append(opener.view(section))
        except DecryptionError:
            if failed is None:
                raise
            failed(section)
    return views, len(decided) - len(views)


def record_damaged(db: Session, who: Requester, now: datetime, facts: CaseFacts,
                   minutes: Minutes, version: MinutesVersion, *,
                   event_type: str) -> Callable[[MinutesSection], None]:
    """A ``failed`` callback for ``readable_views``: the failure on record and in the log."""
    def failed(section: MinutesSection) -> None:
        record(db, who, now, event_type=event_type, action="read", outcome="failed",
               reason="decryption_failed", case_id=facts.case_id, child_id=facts.child_id,
               object_type=ITEM_TYPE, object_id=section.section_key, document_id=minutes.id,
               document_version=version.version, data_categories=categories_of(section))
        log.error("section %s of minutes %s failed authentication", section.section_key,
                  minutes.id)
    return failed


def seal_section(vault: Vault, key: FieldKey, case_id: str, section: MinutesSection,
                 heading: str, body: str) -> None:
    """Seal new text into ``section`` under ``key``, the data key of its version."""
    section.data_key_id = key.id
    section.binding = WITH_ACCESS_FACTS
    section.heading_ct = vault.seal(key, heading, section_binding(
        case_id, section.section_key, section.sealed_version, "heading", section))
    section.body_ct = vault.seal(key, body, section_binding(
        case_id, section.section_key, section.sealed_version, "body", section))


def carried_over(section: MinutesSection, version_id: str, position: int) -> MinutesSection:
    """The same section in a new version: ciphertext, key and binding unchanged."""
    return MinutesSection(version_id=version_id, position=position,
                          section_key=section.section_key, kind=section.kind,
                          nature=section.nature,
                          shared_with_parents=section.shared_with_parents,
                          categories=section.categories, heading_ct=section.heading_ct,
                          body_ct=section.body_ct, sealed_version=section.sealed_version,
                          data_key_id=section.data_key_id, binding=section.binding)
