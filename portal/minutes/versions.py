"""Versions of the minutes: save the editor's form as a new version, submit, approve.

The minute-taker (the meeting's, or a participant with the minute-taker case
role) writes; every save is a new version sealed under a data key of its own;
the chair approves, which freezes that version (nothing ever changes an
approved version; later edits make a new one). Functions take the database
session first and only ``flush()``; the request boundary commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from portal.audit.service import Requester
from portal.cases.gate import case_facts
from portal.consent.anonymous import Writer, guard_text, record_overrides
from portal.db import new_id
from portal.errors import N_, InvalidInput
from portal.minutes import forms
from portal.minutes.editor import discard_draft
from portal.minutes.models import (
    Minutes,
    MinutesSection,
    MinutesStatus,
    MinutesVersion,
    SectionKind,
    SectionNature,
)
from portal.minutes.sections import (
    Opener,
    SectionText,
    carried_over,
    decide_sections,
    seal_section,
    sections_of,
)
from portal.minutes.service import _minutes, gate, versions_of
from portal.notifications import events as notifications
from portal.policy import Action, Actor
from portal.vault.service import FieldKey, Vault


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
