"""Objection: the family objects to the processing in a case; the FG decides.

A parent with custody or the pupil of 16+ (``Action.FAMILY_VIEW``) files an
objection with a reason. While it is pending the case is under restriction,
placed at once and automatically (GDPR art. 18(1)(d)): nobody reads its content.
The case's FG (``portal.dpo.scope``) decides with a written reason: upheld, the
restriction stays (its ground becomes the upheld objection; erasing the case is
then the chair's next step); rejected, it is lifted. The family reads the
decision on their case page. Reasons are sealed with the case's data key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import Binding, DecryptionError
from portal.audit.service import Requester, record
from portal.cases.gate import authorize, case_facts, is_uuid
from portal.cases.models import Case
from portal.consent.models import Restriction
from portal.db import new_id
from portal.dpo.scope import fg_emails_for_case, fg_may_see_case
from portal.errors import N_, InvalidInput
from portal.mail.service import enqueue
from portal.people.names import names_of as person_names
from portal.policy import Action, Actor, decide
from portal.rights.models import (
    Objection,
    ObjectionStatus,
    RestrictionGround,
    RestrictionNote,
)
from portal.rights.restriction import checked_reason, fg_gate, restrict, unrestrict
from portal.vault.service import Vault


def objection_binding(case_id: str, objection_id: str, field: str) -> Binding:
    return Binding(purpose="case-field", case_id=case_id, object_type="objection",
                   object_id=objection_id, version=1, field=field)


# Content-free: no child, no case title, no reason. Dutch, as the FG reads it.
FG_SUBJECT = "MDO-portaal: bezwaar tegen verwerking ingediend"
FG_BODY = ("Een ouder of jongere heeft in het MDO-portaal bezwaar gemaakt tegen de verwerking "
           "in een casus waarbij uw organisatie betrokken is. De verwerking is beperkt tot u "
           "beslist.\n\nBeoordeel het bezwaar in het portaal: {link}\n")


def file_objection(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                   case_id: str, reason: str, public_url: str) -> str:
    """The family objects; the case is restricted until the FG decides. The objection's id."""
    facts = authorize(db, who, actor, now, Action.FAMILY_VIEW, case_id,
                      event_type="rights.objection.file", action_code="create", vault=vault)
    case = db.get_one(Case, facts.case_id)
    reason = checked_reason(reason, "objection")
    pending = db.scalars(select(Objection.id).where(
        Objection.case_id == case.id, Objection.status == ObjectionStatus.PENDING)).first()
    if pending is not None:
        raise InvalidInput({"objection": N_(
            "An objection to this case is already being considered.")})
    objection_id = new_id()
    key = vault.key_for(db, case.title_ct)
    objection = Objection(id=objection_id, case_id=case.id, person_id=actor.person_id,
                          reason_ct=vault.seal(key, reason, objection_binding(
                              case.id, objection_id, "reason")),
                          filed_at=now, status=ObjectionStatus.PENDING)
    db.add(objection)
    db.flush()
    # The family's reason stays between them and the FG: the restriction says only
    # that an objection is being considered.
    objection.restriction_id = restrict(db, vault, case, actor.person_id, now, "",
                                        RestrictionGround.OBJECTION, source_id=objection_id)
    db.flush()
    for email in fg_emails_for_case(db, case.id):
        enqueue(db, now, kind="rights.objection.fg", recipient=email, subject=FG_SUBJECT,
                body=FG_BODY.format(link=f"{public_url}/rights/cases/{case.id}"))
    return objection_id


def decide_objection(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                     case_id: str, objection_id: str, *, upheld: bool, decision: str,
                     acr: str | None, required_acr: str) -> None:
    """The case's FG upholds (the restriction stays) or rejects (it is lifted) an objection."""
    case = fg_gate(db, who, actor, now, case_id, event_type="rights.objection.decide",
                   action_code="update", acr=acr, required_acr=required_acr)
    objection = db.get(Objection, objection_id) if is_uuid(objection_id) else None
    if objection is None or objection.case_id != case.id \
            or objection.status is not ObjectionStatus.PENDING:
        raise InvalidInput({"decision": N_("This objection is not pending.")})
    decision = checked_reason(decision, "decision")
    objection.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.REJECTED
    objection.decided_by, objection.decided_at = actor.person_id, now
    objection.decision_ct = vault.seal(vault.key_for(db, case.title_ct), decision,
                                       objection_binding(case.id, objection.id, "decision"))
    restriction = db.get(Restriction, objection.restriction_id) \
        if objection.restriction_id else None
    if restriction is not None and restriction.lifted_at is None:
        if upheld:
            note = db.get(RestrictionNote, restriction.id)
            if note is not None:
                note.ground = RestrictionGround.UPHELD_OBJECTION
        else:
            unrestrict(db, vault, case, restriction, actor.person_id, now, decision)
    db.flush()


@dataclass(frozen=True)
class ObjectionView:
    id: str
    filed_by: str
    filed_at: datetime
    reason: str | None
    status: ObjectionStatus
    decided_at: datetime | None
    decision: str | None


def _views(db: Session, vault: Vault, who: Requester, now: datetime, case: Case,
           objections: list[Objection]) -> list[ObjectionView]:
    names = person_names(db, vault, {o.person_id for o in objections})
    key = vault.key_for(db, case.title_ct) if objections and case.erased_at is None else None
    views = []
    for o in objections:
        record(db, who, now, event_type="rights.objection.read", action="read",
               outcome="allowed", case_id=case.id, child_id=case.child_id,
               object_type="objection", object_id=o.id)

        def opened(blob: bytes | None, field: str, o: Objection = o) -> str | None:
            if blob is None or key is None:
                return None
            try:
                return vault.open(db, blob, objection_binding(case.id, o.id, field), key)
            except DecryptionError:
                return None

        views.append(ObjectionView(id=o.id, filed_by=names.get(o.person_id, ""),
                                   filed_at=o.filed_at, reason=opened(o.reason_ct, "reason"),
                                   status=o.status, decided_at=o.decided_at,
                                   decision=opened(o.decision_ct, "decision")))
    return views


def case_objections(db: Session, vault: Vault, who: Requester, now: datetime,
                    case_id: str) -> list[ObjectionView]:
    """Every objection to a case, for its FG (the caller has passed ``fg_gate``)."""
    case = db.get_one(Case, case_id)
    return _views(db, vault, who, now, case, list(db.scalars(
        select(Objection).where(Objection.case_id == case.id)
        .order_by(Objection.filed_at.desc(), Objection.id))))


def family_objections(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                      case_id: str) -> list[ObjectionView]:
    """The objections this family member filed, with the FG's decision. Shown also under
    the restriction they caused: they are the family's own, and the decision about it."""
    facts = case_facts(db, case_id, vault, now)
    if facts is None or not decide(actor, Action.FAMILY_VIEW, facts).allowed:
        return []
    case = db.get_one(Case, facts.case_id)
    return _views(db, vault, who, now, case, list(db.scalars(
        select(Objection).where(Objection.case_id == case.id,
                                Objection.person_id == actor.person_id)
        .order_by(Objection.filed_at.desc(), Objection.id))))


def pending_objections(db: Session, actor: Actor) -> int:
    """How many objections wait for this FG's decision (a count: nothing is read)."""
    if not decide(actor, Action.DPO_REVIEW).allowed:
        return 0
    return sum(1 for case_id in db.scalars(select(Objection.case_id).where(
        Objection.status == ObjectionStatus.PENDING)) if fg_may_see_case(db, actor, case_id))
