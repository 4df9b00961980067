"""Rectification by the family: facts are corrected, opinions get the family's statement.

A parent with custody or the pupil of 16+ (``Action.FAMILY_VIEW``) who may read an
approved minutes section (``Action.ITEM_READ``, decided and recorded per section)
proposes a correction of a FACT section: it becomes a ``MinutesCorrection`` like a
participant's, which the chair accepts or rejects with a reason on the minutes page
(``portal.minutes.corrections``), and the family reads the outcome on their page.
An OPINION cannot be rectified (DOMAIN.md): the family attaches their own statement
to it instead, sealed with the case's data key and shown next to the opinion wherever
the opinion is shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import Binding, DecryptionError
from portal.audit.service import Requester, record
from portal.cases.gate import authorize, case_facts, is_uuid
from portal.cases.models import Case
from portal.db import new_id
from portal.errors import N_, AccessDenied, InvalidInput
from portal.meetings.models import Meeting
from portal.minutes.corrections import REASON_MAX, correction_binding
from portal.minutes.forms import BODY_MAX
from portal.minutes.models import (
    CorrectionStatus,
    Minutes,
    MinutesCorrection,
    MinutesSection,
    MinutesStatus,
    SectionNature,
)
from portal.minutes.sections import decide_sections, sections_of
from portal.minutes.service import versions_of
from portal.people.names import names_of as person_names
from portal.policy import Action, Actor, CaseFacts, Deny, decide
from portal.rights.models import FamilyStatement, RestrictionGround
from portal.rights.restriction import restrict
from portal.vault.service import WITH_ACCESS_FACTS, Vault
from portal.web.text import check_text

STATEMENT_MAX = 4000


def statement_binding(case_id: str, statement_id: str) -> Binding:
    return Binding(purpose="case-field", case_id=case_id, object_type="family_statement",
                   object_id=statement_id, version=1, field="text")


def _family_section(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                    case_id: str, meeting_id: str, section_key: str, *,
                    event_type: str) -> tuple[CaseFacts, Minutes, int, MinutesSection]:
    """The latest approved version's section, for a family member who decides about the
    case (custodian, pupil 16+) and may read that very section; refused otherwise."""
    facts = authorize(db, who, actor, now, Action.FAMILY_VIEW, case_id, event_type=event_type,
                      action_code="create", vault=vault)
    meeting = db.get(Meeting, meeting_id) if is_uuid(meeting_id) else None
    minutes = db.scalars(select(Minutes).where(Minutes.meeting_id == meeting.id)).first() \
        if meeting is not None and meeting.case_id == facts.case_id else None
    approved = [v for v in versions_of(db, minutes) if v.status is MinutesStatus.APPROVED]
    if minutes is None or not approved:
        raise InvalidInput({"section": N_("This section does not exist.")})
    version = approved[-1]
    section = next((s for s in sections_of(db, version) if s.section_key == section_key), None)
    if section is None:
        raise InvalidInput({"section": N_("This section does not exist.")})
    ((_, decision),) = decide_sections(db, who, actor, now, facts, minutes, version, [section],
                                       event_type=f"{event_type}.section")
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    return facts, minutes, version.version, section


def _checked(errors: dict[str, str], field: str, value: str, limit: int, message: str) -> str:
    value = value.strip()
    if not value or len(value) > limit:
        errors[field] = message
    return value


def propose_fact_correction(db: Session, vault: Vault, who: Requester, actor: Actor,
                            now: datetime, case_id: str, meeting_id: str, section_key: str,
                            text: str, reason: str) -> str:
    """The family proposes the corrected text of a fact; the correction's id."""
    facts, minutes, version, section = _family_section(
        db, vault, who, actor, now, case_id, meeting_id, section_key,
        event_type="rights.rectification.propose")
    if section.nature is SectionNature.OPINION:
        raise InvalidInput({f"text-{section_key}": N_(
            "A professional opinion cannot be rectified; you can add your own view to it "
            "instead.")})
    errors: dict[str, str] = {}
    text = _checked(errors, f"text-{section_key}", text, BODY_MAX,
                    N_("Write the corrected text."))
    reason = _checked(errors, f"reason-{section_key}", reason, REASON_MAX,
                      N_("Say why the section is not correct."))
    check_text(errors, {f"text-{section_key}": text, f"reason-{section_key}": reason},
               multiline=(f"text-{section_key}", f"reason-{section_key}"))
    if errors:
        raise InvalidInput(errors)
    correction = MinutesCorrection(
        id=new_id(), minutes_id=minutes.id, version=version,
        section_key=section.section_key, categories=section.categories,
        status=CorrectionStatus.PROPOSED, data_key_id="", text_ct=b"", reason_ct=b"",
        proposed_by=actor.person_id, proposed_at=now, binding=WITH_ACCESS_FACTS)
    key = vault.new_key(db, "minutes_correction", correction.id, now)
    correction.data_key_id = key.id
    bound = partial(correction_binding, facts.case_id, correction)
    correction.text_ct = vault.seal(key, text, bound("text"))
    correction.reason_ct = vault.seal(key, reason, bound("reason"))
    db.add(correction)
    db.flush()
    # The family contests the section's accuracy: it is restricted until the chair has
    # verified it (GDPR art. 18(1)(a)); the chair still reads it (policy.verifying_items).
    restrict(db, vault, db.get_one(Case, facts.case_id), actor.person_id, now, "",
             RestrictionGround.RECTIFICATION, source_id=correction.id,
             item_id=section.section_key)
    return correction.id


def attach_statement(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                     case_id: str, meeting_id: str, section_key: str, text: str) -> str:
    """The family's own view, attached to a professional opinion; the statement's id."""
    facts, minutes, _, section = _family_section(
        db, vault, who, actor, now, case_id, meeting_id, section_key,
        event_type="rights.statement.attach")
    if section.nature is not SectionNature.OPINION:
        raise InvalidInput({f"statement-{section_key}": N_(
            "A fact is corrected, not commented on: propose a correction instead.")})
    errors: dict[str, str] = {}
    text = _checked(errors, f"statement-{section_key}", text, STATEMENT_MAX,
                    N_("Write your view on this opinion."))
    check_text(errors, {f"statement-{section_key}": text},
               multiline=(f"statement-{section_key}",))
    if errors:
        raise InvalidInput(errors)
    case = db.get_one(Case, facts.case_id)
    statement_id = new_id()
    db.add(FamilyStatement(
        id=statement_id, case_id=case.id, minutes_id=minutes.id, section_key=section_key,
        person_id=actor.person_id, created_at=now,
        text_ct=vault.seal(vault.key_for(db, case.title_ct), text,
                           statement_binding(case.id, statement_id))))
    db.flush()
    return statement_id


@dataclass(frozen=True)
class StatementView:
    id: str
    section_key: str
    author: str
    created_at: datetime
    text: str


def statements_for(db: Session, vault: Vault, who: Requester, now: datetime, case_id: str,
                   readable_keys: Iterable[str]) -> dict[str, list[StatementView]]:
    """The family's statements on the sections the caller has already let the reader read
    (by section key); each statement read is recorded before it is decrypted."""
    keys = set(readable_keys)
    if not keys:
        return {}
    case = db.get_one(Case, case_id)
    if case.erased_at is not None:
        return {}
    rows = list(db.scalars(select(FamilyStatement).where(
        FamilyStatement.case_id == case.id, FamilyStatement.section_key.in_(keys))
        .order_by(FamilyStatement.created_at, FamilyStatement.id)))
    names = person_names(db, vault, [s.person_id for s in rows])
    shown: dict[str, list[StatementView]] = {}
    key = vault.key_for(db, case.title_ct) if rows else None
    for statement in rows:
        record(db, who, now, event_type="rights.statement.read", action="read",
               outcome="allowed", case_id=case.id, child_id=case.child_id,
               object_type="family_statement", object_id=statement.id,
               document_id=statement.minutes_id)
        try:
            text = vault.open(db, statement.text_ct, statement_binding(case.id, statement.id),
                              key)
        except DecryptionError:
            continue
        shown.setdefault(statement.section_key, []).append(StatementView(
            id=statement.id, section_key=statement.section_key,
            author=names.get(statement.person_id, "?"), created_at=statement.created_at,
            text=text))
    return shown


@dataclass(frozen=True)
class FamilyCorrection:
    id: str
    section_key: str
    status: CorrectionStatus
    text: str
    proposed_at: datetime
    decided_at: datetime | None
    decision: str | None  # the chair's reason, when rejected


def family_corrections(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                       case_id: str) -> list[FamilyCorrection]:
    """The corrections this family member proposed on the case, with the chair's outcome.
    The family page has already authorised the reader; each read is recorded."""
    facts = case_facts(db, case_id, vault, now)
    case = db.get(Case, case_id) if facts is not None else None
    if facts is None or case is None or case.erased_at is not None or facts.restricted \
            or not decide(actor, Action.FAMILY_VIEW, facts).allowed:
        return []
    rows = list(db.scalars(select(MinutesCorrection).join(
        Minutes, Minutes.id == MinutesCorrection.minutes_id).where(
        Minutes.case_id == case.id, MinutesCorrection.proposed_by == actor.person_id)
        .order_by(MinutesCorrection.proposed_at.desc())))
    shown = []
    for c in rows:
        record(db, who, now, event_type="rights.rectification.read", action="read",
               outcome="allowed", case_id=case.id, child_id=case.child_id,
               object_type="minutes_correction", object_id=c.id, document_id=c.minutes_id,
               document_version=c.version)
        key = vault.key_by_id(db, c.data_key_id, owner=("minutes_correction", c.id))
        try:
            text = vault.open(db, c.text_ct, correction_binding(case.id, c, "text"), key)
            decision = vault.open(db, c.decision_ct, correction_binding(case.id, c, "decision"),
                                  key) if c.decision_ct else None
        except DecryptionError:
            continue
        shown.append(FamilyCorrection(id=c.id, section_key=c.section_key, status=c.status,
                                      text=text, proposed_at=c.proposed_at,
                                      decided_at=c.decided_at, decision=decision))
    return shown
