"""Corrections: a participant proposes one to a section of an approved version; the chair
accepts (a new approved version carrying the corrected section) or rejects with a reason.

Rectification applies to facts only: a correction to a professional opinion is
refused. Text, reason and the rejection's reason are encrypted under the
correction's own data key; only ids, status, categories and dates are clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import Binding, DecryptionError
from portal.audit.service import Requester, record
from portal.cases.gate import is_uuid
from portal.consent.anonymous import Writer, guard_text, record_overrides
from portal.db import new_id
from portal.errors import N_, AccessDenied, InvalidInput
from portal.minutes.forms import BODY_MAX
from portal.minutes.models import (
    CorrectionStatus,
    Minutes,
    MinutesCorrection,
    MinutesSection,
    MinutesStatus,
    MinutesVersion,
    SectionNature,
)
from portal.minutes.sections import (
    Opener,
    carried_over,
    decide_sections,
    lineage,
    seal_section,
    sections_of,
)
from portal.minutes.service import Gate, gate, versions_of
from portal.minutes.versions import new_version
from portal.notifications import events as notifications
from portal.people.names import names_of as person_names
from portal.policy import Action, Actor, Deny, ItemFacts, decide
from portal.rights.hooks import correction_decided
from portal.vault.service import WITH_ACCESS_FACTS, FieldKey, Vault, access_context
from portal.web.text import check_text

REASON_MAX = 4000


def correction_binding(case_id: str, correction: MinutesCorrection, field: str) -> Binding:
    """Where a correction's text belongs; with binding 2 also the categories it is read by."""
    context = access_context(correction.categories) \
        if correction.binding >= WITH_ACCESS_FACTS else ()
    return Binding(purpose="minutes-correction", case_id=case_id,
                   object_type="minutes_correction", object_id=correction.id, version=1,
                   field=field, context=context)


def _latest_approved(db: Session, minutes: Minutes | None) -> MinutesVersion | None:
    approved = [v for v in versions_of(db, minutes) if v.status is MinutesStatus.APPROVED]
    return approved[-1] if approved else None


def _readable_section(db: Session, who: Requester, actor: Actor, now: datetime, g: Gate,
                      version: MinutesVersion, section_key: str,
                      event_type: str) -> MinutesSection:
    """The section of ``version``, decided and recorded for the actor; refused if unreadable."""
    assert g.minutes is not None
    section = next((s for s in sections_of(db, version) if s.section_key == section_key), None)
    if section is None:
        raise InvalidInput({"section": N_("This section does not exist.")})
    ((_, decision),) = decide_sections(db, who, actor, now, g.facts, g.minutes, version,
                                       [section], event_type=event_type)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    return section


def propose(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
            meeting_id: str, section_key: str, text: str, reason: str, *,
            confirm_identifiers: bool = False) -> str:
    g = gate(db, who, actor, now, meeting_id, Action.MINUTES_CORRECT,
             event_type="minutes.correction.propose", action_code="create", vault=vault)
    version = _latest_approved(db, g.minutes)
    if version is None or g.minutes is None:
        raise InvalidInput({"section": N_("Only approved minutes can be corrected.")})
    section = _readable_section(db, who, actor, now, g, version, section_key,
                                "minutes.correction.propose.section")
    if section.nature is SectionNature.OPINION:
        raise InvalidInput({"text": N_(
            "A professional opinion cannot be rectified; only facts can be corrected.")})
    text, reason = text.strip(), reason.strip()
    errors = {}
    if not text or len(text) > BODY_MAX:
        errors["text"] = N_("Write the corrected text.")
    if not reason or len(reason) > REASON_MAX:
        errors["reason"] = N_("Say why the section is not correct.")
    check_text(errors, {"text": text, "reason": reason}, multiline=("text", "reason"))
    if errors:
        raise InvalidInput(errors)
    # Nothing may identify the child in an anonymous case (checked before sealing).
    confirmed = guard_text(db, vault, Writer(who, actor, g.facts.case_id),
                           {"text": text, "reason": reason}, now,
                           confirmed=confirm_identifiers) if g.facts.anonymous else {}
    correction = MinutesCorrection(
        id=new_id(), minutes_id=g.minutes.id, version=version.version,
        section_key=section.section_key, categories=section.categories,
        status=CorrectionStatus.PROPOSED, data_key_id="", text_ct=b"", reason_ct=b"",
        proposed_by=actor.person_id, proposed_at=now, binding=WITH_ACCESS_FACTS)
    key = vault.new_key(db, "minutes_correction", correction.id, now)
    correction.data_key_id = key.id
    bound = partial(correction_binding, g.facts.case_id, correction)
    correction.text_ct = vault.seal(key, text, bound("text"))
    correction.reason_ct = vault.seal(key, reason, bound("reason"))
    db.add(correction)
    db.flush()
    record_overrides(db, g.facts.case_id, actor.person_id,
                     {f"minutes_correction:{correction.id}:{field}": kinds
                      for field, kinds in confirmed.items()}, now)
    notifications.correction_proposed(db, now, g.facts.case_id, g.meeting.id, actor.person_id)
    return correction.id


def _proposed(db: Session, g: Gate, correction_id: str) -> MinutesCorrection:
    correction = db.get(MinutesCorrection, correction_id) if is_uuid(correction_id) else None
    if correction is None or g.minutes is None or correction.minutes_id != g.minutes.id:
        raise InvalidInput({"correction": N_("This correction does not exist.")})
    if correction.status is not CorrectionStatus.PROPOSED:
        raise InvalidInput({"correction": N_("This correction has already been decided.")})
    return correction


def accept(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
           meeting_id: str, correction_id: str) -> int:
    """A new approved version: the latest approved one with the section's text corrected."""
    g = gate(db, who, actor, now, meeting_id, Action.MINUTES_APPROVE,
             event_type="minutes.correction.accept", action_code="update", vault=vault)
    correction = _proposed(db, g, correction_id)
    base = _latest_approved(db, g.minutes)
    assert base is not None and g.minutes is not None  # a proposal needs an approved version
    target = _readable_section(db, who, actor, now, g, base, correction.section_key,
                               "minutes.correction.accept.section")
    if target.nature is SectionNature.OPINION:
        # It may have become an opinion after the proposal: rectification never applies.
        raise InvalidInput({"correction": N_(
            "A professional opinion cannot be rectified; only facts can be corrected.")})
    if versions_of(db, g.minutes)[-1].version != base.version:
        # The corrected version is built on the latest approved one; a newer draft or
        # submitted version would silently drop out of the line.
        raise InvalidInput({"correction": N_(
            "A newer version is not approved yet: approve that version first, then accept "
            "the correction.")})
    opener = Opener(db, vault, g.facts.case_id)
    heading = opener.text(target).heading
    corrected = vault.open(db, correction.text_ct,
                           correction_binding(g.facts.case_id, correction, "text"),
                           opener.key(correction.data_key_id))
    number = versions_of(db, g.minutes)[-1].version + 1
    version, key = new_version(db, vault, g.minutes, number, actor.person_id, now,
                               MinutesStatus.APPROVED)
    version.approved_at, version.approved_by = now, actor.person_id
    version.correction_id = correction.id
    for position, section in enumerate(sections_of(db, base)):
        row = carried_over(section, version.id, position)
        if section.section_key == target.section_key:
            row.sealed_version = number
            seal_section(vault, key, g.facts.case_id, row, heading, corrected)
        db.add(row)
    correction.status = CorrectionStatus.ACCEPTED
    correction.decided_by, correction.decided_at = actor.person_id, now
    correction.result_version = number
    db.flush()
    correction_decided(db, correction.id, actor.person_id, now)
    notifications.correction_decided(db, now, g.facts.case_id, g.meeting.id,
                                     correction.proposed_by, actor.person_id)
    notifications.minutes_approved(db, now, g.facts.case_id, g.meeting.id, version.id,
                                   actor.person_id)
    return number


def reject(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
           meeting_id: str, correction_id: str, reason: str) -> None:
    g = gate(db, who, actor, now, meeting_id, Action.MINUTES_APPROVE,
             event_type="minutes.correction.reject", action_code="update")
    correction = _proposed(db, g, correction_id)
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise InvalidInput({"decision": N_("Say why the correction is rejected.")})
    refused: dict[str, str] = {}
    check_text(refused, {"decision": reason}, multiline=("decision",))
    if refused:
        raise InvalidInput(refused)
    key = vault.key_by_id(db, correction.data_key_id,
                          owner=("minutes_correction", correction.id))
    correction.decision_ct = vault.seal(
        key, reason, correction_binding(g.facts.case_id, correction, "decision"))
    correction.status = CorrectionStatus.REJECTED
    correction.decided_by, correction.decided_at = actor.person_id, now
    db.flush()
    correction_decided(db, correction.id, actor.person_id, now)
    notifications.correction_decided(db, now, g.facts.case_id, g.meeting.id,
                                     correction.proposed_by, actor.person_id)


@dataclass(frozen=True)
class CorrectionView:
    id: str
    version: int
    section_key: str
    status: CorrectionStatus
    text: str
    reason: str
    decision: str | None
    proposed_by: str
    proposed_at: datetime
    result_version: int | None


def corrections_for(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                    g: Gate) -> list[CorrectionView]:
    """The corrections whose section the reader may read (each decided and recorded)."""
    if g.minutes is None:
        return []
    rows = db.scalars(select(MinutesCorrection)
                      .where(MinutesCorrection.minutes_id == g.minutes.id)
                      .order_by(MinutesCorrection.proposed_at.desc())).all()
    # A family member's correction (portal.rights) names a citizen: their name is sealed.
    names = person_names(db, vault, [c.proposed_by for c in rows])
    opener = Opener(db, vault, g.facts.case_id)
    line = lineage(db, g.minutes)
    shown = []
    for c in rows:
        # Decided on the section's categories now (every version's), not only those
        # copied when it was proposed: a reclassified section protects its corrections.
        categories = tuple(sorted(line.categories(
            c.section_key, (x for x in c.categories.split(",") if x))))
        decision = decide(actor, Action.ITEM_READ, g.facts, ItemFacts(
            item_type="minutes_section", item_id=c.section_key,
            categories=frozenset(categories)))
        record(db, who, now, event_type="minutes.correction.list", action="read",
               decision=decision, case_id=g.facts.case_id, child_id=g.facts.child_id,
               object_type="minutes_correction", object_id=c.id, document_id=c.minutes_id,
               document_version=c.version, data_categories=categories)
        if not decision.allowed:
            continue
        key = opener.key(c.data_key_id)

        def field(name: str, blob: bytes, c: MinutesCorrection = c, key: FieldKey = key) -> str:
            return vault.open(db, blob, correction_binding(g.facts.case_id, c, name), key)

        try:
            text, reason = field("text", c.text_ct), field("reason", c.reason_ct)
            decided = field("decision", c.decision_ct) if c.decision_ct else None
        except DecryptionError:
            # Damaged, or its categories edited in the database: withheld, on record.
            record(db, who, now, event_type="minutes.correction.list", action="read",
                   outcome="failed", reason="decryption_failed", case_id=g.facts.case_id,
                   child_id=g.facts.child_id, object_type="minutes_correction",
                   object_id=c.id, document_id=c.minutes_id, document_version=c.version,
                   data_categories=categories)
            continue
        shown.append(CorrectionView(
            id=c.id, version=c.version, section_key=c.section_key, status=c.status,
            text=text, reason=reason, decision=decided,
            proposed_by=names.get(c.proposed_by, "?"), proposed_at=c.proposed_at,
            result_version=c.result_version))
    return shown
