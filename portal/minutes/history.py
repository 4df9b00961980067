"""The minutes' history: who changed what and when, with a diff of the readable sections.

Every section of every version is decided for the reader and recorded; only
allowed ones are decrypted and diffed (difflib on the text). A change to a
section the reader may not read is counted, never shown: whether it changed
is seen from its ciphertext (a section carried over keeps it), not its text.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from portal.audit.service import Requester
from portal.minutes.models import MinutesSection
from portal.minutes.sections import Opener, decide_sections, lineage, sections_of
from portal.minutes.service import VersionSummary, gate, summaries, versions_of
from portal.policy import Action, Actor, Decision
from portal.vault.service import Vault


@dataclass(frozen=True)
class SectionChange:
    heading: str
    change: str  # added | removed | changed
    diff: list[str]


@dataclass(frozen=True)
class VersionChanges:
    summary: VersionSummary
    changes: list[SectionChange]
    hidden_changes: int


@dataclass(frozen=True)
class History:
    meeting_id: str
    case_id: str
    starts_at: datetime
    versions: list[VersionChanges]


def _text(opener: Opener, section: MinutesSection) -> list[str]:
    text = opener.text(section)
    meta = (f"[{section.kind.value}; {section.nature.value}; {section.categories}; "
            f"{'shared' if section.shared_with_parents else 'not shared'}]")
    return [f"# {text.heading}", meta, *text.body.splitlines()]


def _same(a: MinutesSection, b: MinutesSection) -> bool:
    return (a.heading_ct, a.body_ct, a.kind, a.nature, a.shared_with_parents, a.categories) == \
        (b.heading_ct, b.body_ct, b.kind, b.nature, b.shared_with_parents, b.categories)


def history(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
            meeting_id: str) -> History:
    g = gate(db, who, actor, now, meeting_id, Action.MEETING_VIEW,
             event_type="minutes.history", action_code="read", vault=vault)
    versions = versions_of(db, g.minutes)
    opener = Opener(db, vault, g.facts.case_id)
    decided: list[dict[str, tuple[MinutesSection, Decision]]] = []
    line = lineage(db, g.minutes) if g.minutes is not None else None
    for version in versions:
        assert g.minutes is not None
        decided.append({s.section_key: (s, d) for s, d in decide_sections(
            db, who, actor, now, g.facts, g.minutes, version, sections_of(db, version),
            event_type="minutes.history.section", line=line)})
    result = []
    for i, summary in enumerate(summaries(db, versions)):
        before = decided[i - 1] if i else {}
        after = decided[i]
        changes, hidden = [], 0
        for key in list(after) + [k for k in before if k not in after]:
            old, new = before.get(key), after.get(key)
            if old and new and _same(old[0], new[0]):
                continue
            if not all(pair[1].allowed for pair in (old, new) if pair):
                hidden += 1
                continue
            old_lines = _text(opener, old[0]) if old else []
            new_lines = _text(opener, new[0]) if new else []
            heading = (new_lines or old_lines)[0][2:]
            change = "added" if not old else "removed" if not new else "changed"
            diff = list(difflib.unified_diff(old_lines, new_lines, lineterm="", n=2))[2:]
            changes.append(SectionChange(heading=heading, change=change, diff=diff))
        result.append(VersionChanges(summary=summary, changes=changes, hidden_changes=hidden))
    return History(meeting_id=g.meeting.id, case_id=g.facts.case_id,
                   starts_at=g.meeting.starts_at, versions=list(reversed(result)))
