"""Placing and lifting a restriction, and saying why one is in force.

The policy already refuses every read of a restricted case or item
(``portal.policy._restricted``); this module is what places and lifts the
``Restriction`` rows. Only the FG of an organisation taking part in the case
(``portal.dpo.scope.fg_may_see_case``) places or lifts one by hand, always with
a written reason; an objection places one automatically while it is pending
(``portal.rights.objection``). Each step is an access record; the reasons are
sealed with the case's data key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.config import acr_at_least
from crypto import Binding, DecryptionError
from portal.audit.service import Requester, record
from portal.audit.views import StepUpRequired
from portal.cases.gate import case_facts, is_uuid
from portal.cases.models import Case
from portal.consent.models import Restriction
from portal.db import new_id
from portal.dpo.scope import fg_may_see_case
from portal.errors import N_, AccessDenied, InvalidInput
from portal.people.names import names_of as person_names
from portal.policy import FAMILY_PARTS, Action, Actor, CaseFacts, Deny, FamilyPart, decide
from portal.rights.models import RestrictionGround, RestrictionNote
from portal.vault.service import Vault
from portal.web.text import check_text

REASON_MIN = 10
REASON_MAX = 2000


def note_binding(case_id: str, restriction_id: str, field: str) -> Binding:
    return Binding(purpose="case-field", case_id=case_id, object_type="restriction",
                   object_id=restriction_id, version=1, field=field)


def checked_reason(reason: str, field: str = "reason") -> str:
    """The written reason, or InvalidInput naming the field."""
    reason = reason.strip()
    errors: dict[str, str] = {}
    if len(reason) < REASON_MIN:
        errors[field] = N_("Write down the reason (at least a sentence).")
    elif len(reason) > REASON_MAX:
        errors[field] = N_("The reason is too long.")
    check_text(errors, {field: reason}, multiline=(field,))
    if errors:
        raise InvalidInput(errors)
    return reason


def fg_gate(db: Session, who: Requester, actor: Actor, now: datetime, case_id: str, *,
            event_type: str, action_code: str, acr: str | None, required_acr: str) -> Case:
    """The case's FG, logged in strongly enough: the case; anyone else is refused (and
    recorded). An FG of an organisation outside the case learns nothing (404)."""
    decision = decide(actor, Action.DPO_REVIEW)
    case = db.get(Case, case_id) if is_uuid(case_id) else None
    if decision.allowed and (case is None or not fg_may_see_case(db, actor, case.id)):
        decision = Deny(reason="not_fg_of_case", hide=True)
    if decision.allowed and not acr_at_least(acr, required_acr):
        decision = Deny(reason="step_up_required")
    record(db, who, now, event_type=event_type, action=action_code, decision=decision,
           case_id=case.id if case else None, child_id=case.child_id if case else None,
           object_type="case", object_id=case.id if case else None)
    if isinstance(decision, Deny):
        if decision.reason == "step_up_required":
            raise StepUpRequired(decision, required_acr)
        raise AccessDenied(decision)
    assert case is not None
    return case


def restrict(db: Session, vault: Vault, case: Case, person_id: str, now: datetime,
             reason: str, ground: RestrictionGround, source_id: str | None = None,
             item_id: str | None = None) -> str:
    """Place a restriction on the whole case, or on one item (the caller has decided and
    recorded); its id."""
    restriction_id = new_id()
    db.add(Restriction(id=restriction_id, case_id=case.id, item_id=item_id,
                       placed_by=person_id, placed_at=now))
    db.flush()
    key = vault.key_for(db, case.title_ct)
    db.add(RestrictionNote(restriction_id=restriction_id, case_id=case.id, ground=ground,
                           source_id=source_id,
                           reason_ct=vault.seal(key, reason,
                                                note_binding(case.id, restriction_id, "reason"))))
    db.flush()
    return restriction_id


def unrestrict(db: Session, vault: Vault, case: Case, restriction: Restriction,
               person_id: str, now: datetime, reason: str) -> None:
    """Lift a restriction (the caller has decided and recorded)."""
    restriction.lifted_at, restriction.lifted_by = now, person_id
    note = db.get(RestrictionNote, restriction.id)
    if note is not None:
        note.lift_reason_ct = vault.seal(vault.key_for(db, case.title_ct), reason,
                                         note_binding(case.id, restriction.id, "lift_reason"))
    db.flush()


def place_restriction(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                      case_id: str, reason: str, *, acr: str | None, required_acr: str,
                      ground: RestrictionGround = RestrictionGround.FG,
                      source_id: str | None = None) -> str:
    """The case's FG restricts the whole case, with a written reason; the restriction's id.

    Callable from anywhere that acts for the FG (the requests desk, say): pass
    the request as ``source_id``."""
    case = fg_gate(db, who, actor, now, case_id, event_type="rights.restriction.place",
                   action_code="create", acr=acr, required_acr=required_acr)
    if case.erased_at is not None:
        raise InvalidInput({"reason": N_("This case was erased: there is nothing to restrict.")})
    reason = checked_reason(reason)
    if _in_force(db, case.id):
        raise InvalidInput({"reason": N_("A restriction is already in force on this case.")})
    return restrict(db, vault, case, actor.person_id, now, reason, ground, source_id)


def lift_restriction(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                     case_id: str, restriction_id: str, reason: str, *, acr: str | None,
                     required_acr: str) -> None:
    """The case's FG lifts a restriction in force, with a written reason."""
    case = fg_gate(db, who, actor, now, case_id, event_type="rights.restriction.lift",
                   action_code="update", acr=acr, required_acr=required_acr)
    restriction = db.get(Restriction, restriction_id) if is_uuid(restriction_id) else None
    if restriction is None or restriction.case_id != case.id or restriction.lifted_at:
        raise InvalidInput({"lift_reason": N_("This restriction is not in force.")})
    note = db.get(RestrictionNote, restriction.id)
    if note is not None and note.ground is RestrictionGround.OBJECTION:
        # It ends with the decision on the objection, which the family then reads.
        raise InvalidInput({"lift_reason": N_(
            "This restriction holds while the objection is pending: decide on the objection.")})
    unrestrict(db, vault, case, restriction, actor.person_id, now,
               checked_reason(reason, "lift_reason"))


def _in_force(db: Session, case_id: str) -> list[Restriction]:
    return list(db.scalars(select(Restriction).where(
        Restriction.case_id == case_id, Restriction.lifted_at.is_(None))
        .order_by(Restriction.placed_at, Restriction.id)))


@dataclass(frozen=True)
class RestrictionNotice:
    """A restriction, as the case page shows it: since when, on what ground, why."""

    id: str
    placed_at: datetime
    placed_by: str
    ground: RestrictionGround | None  # None: placed before restrictions had notes
    reason: str | None  # None: not written down, or erased with the case
    whole_case: bool
    lifted_at: datetime | None = None
    lift_reason: str | None = None


def restriction_notices(db: Session, vault: Vault, who: Requester, now: datetime,
                        facts: CaseFacts, *, history: bool = False) -> list[RestrictionNotice]:
    """The restrictions in force on a case (with ``history`` also the lifted ones), for a
    reader the caller has already let see the case. Each reason read is recorded."""
    query = select(Restriction).where(Restriction.case_id == facts.case_id)
    if not history:
        query = query.where(Restriction.lifted_at.is_(None))
    restrictions = list(db.scalars(query.order_by(Restriction.placed_at.desc(),
                                                   Restriction.id)))
    if not restrictions:
        return []
    case = db.get_one(Case, facts.case_id)
    notes = {n.restriction_id: n for n in db.scalars(select(RestrictionNote).where(
        RestrictionNote.restriction_id.in_([r.id for r in restrictions])))}
    names = person_names(db, vault, {r.placed_by for r in restrictions})
    notices = []
    for restriction in restrictions:
        note = notes.get(restriction.id)
        if note is not None:
            record(db, who, now, event_type="rights.restriction.read", action="read",
                   outcome="allowed", case_id=case.id, child_id=case.child_id,
                   object_type="restriction", object_id=restriction.id)
        notices.append(RestrictionNotice(
            id=restriction.id, placed_at=restriction.placed_at,
            placed_by=names.get(restriction.placed_by, ""),
            ground=note.ground if note else None,
            reason=_open(db, vault, case, note.reason_ct, restriction.id, "reason")
            if note else None,
            whole_case=restriction.item_id is None, lifted_at=restriction.lifted_at,
            lift_reason=_open(db, vault, case, note.lift_reason_ct, restriction.id,
                              "lift_reason") if note and note.lift_reason_ct else None))
    return notices


def _open(db: Session, vault: Vault, case: Case, sealed: bytes, restriction_id: str,
          field: str) -> str | None:
    if case.erased_at is not None:
        return None
    try:
        return vault.open(db, sealed, note_binding(case.id, restriction_id, field),
                          vault.key_for(db, case.title_ct))
    except DecryptionError:
        return None


@dataclass(frozen=True)
class FgCasePage:
    case_id: str
    erased: bool
    notices: list[RestrictionNotice]

    @property
    def in_force(self) -> list[RestrictionNotice]:
        return [n for n in self.notices if n.lifted_at is None]


def fg_case_page(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                 case_id: str, *, acr: str | None, required_acr: str) -> FgCasePage:
    """The FG's view of one case's restrictions, in force and lifted, with their reasons."""
    case = fg_gate(db, who, actor, now, case_id, event_type="rights.restriction.view",
                   action_code="read", acr=acr, required_acr=required_acr)
    facts = CaseFacts(case_id=case.id, status=case.status, legal_basis=case.legal_basis,
                      anonymous=case.anonymous, child_id=case.child_id)
    return FgCasePage(case_id=case.id, erased=case.erased_at is not None,
                      notices=restriction_notices(db, vault, who, now, facts, history=True))


@dataclass(frozen=True)
class RestrictedCase:
    case_id: str
    placed_at: datetime
    ground: RestrictionGround | None


def fg_restricted_cases(db: Session, who: Requester, actor: Actor,
                        now: datetime) -> list[RestrictedCase]:
    """The restrictions in force on the cases this FG oversees (no reasons: nothing is
    decrypted for the list)."""
    decision = decide(actor, Action.DPO_REVIEW)
    record(db, who, now, event_type="rights.restriction.list", action="read",
           decision=decision)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    rows = db.execute(select(Restriction.case_id, Restriction.placed_at, RestrictionNote.ground)
                      .outerjoin(RestrictionNote,
                                 RestrictionNote.restriction_id == Restriction.id)
                      .where(Restriction.lifted_at.is_(None))
                      .order_by(Restriction.placed_at.desc(), Restriction.id)).all()
    return [RestrictedCase(r.case_id, r.placed_at, r.ground) for r in rows
            if fg_may_see_case(db, actor, r.case_id)]


def family_restriction_notices(db: Session, vault: Vault, who: Requester, actor: Actor,
                               now: datetime, case_id: str) -> list[RestrictionNotice]:
    """For the family's case page (already authorised): the restrictions in force, when
    this family member would otherwise read the case's content."""
    facts = case_facts(db, case_id, vault, now)
    if facts is None or not facts.restricted \
            or not decide(actor, FAMILY_PARTS[FamilyPart.CONTENT], facts).allowed:
        return []
    return restriction_notices(db, vault, who, now, facts)
