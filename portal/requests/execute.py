"""Carrying out a request with the portal's own machinery, from the request's page.

- *Restriction*: the FG places a restriction on a case the request concerns
  (``portal.rights.restriction``, ground FG, the request as its source) and
  lifts it later, each with a written reason. The case page then shows it to
  everyone who would otherwise read, and reads stop meanwhile.
- *Objection* about a named case: restricted from filing to decision
  (``portal.requests.effects``).
- *Erasure*: the FG of the organisation that holds a case decides whether a
  legal retention duty applies (the Jeugdwet's 20 years, say). With one, the
  case is kept and the duty is written down on the request; without one, and
  with no legal hold, the case is crypto-shredded (``shred_case``) and the
  access log keeps the fact.

Every step is an access record (through the request's scope check and the
case's FG gate, both before anything is decrypted) and a note in the request's
history, sealed under the request's key.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.cases.erasure import shred_case
from portal.cases.models import Case
from portal.consent.models import Restriction
from portal.dpo.scope import fg_may_see_case, fg_organisations
from portal.errors import N_, InvalidInput
from portal.policy import Actor
from portal.requests.clock import local_day
from portal.requests.desk import _scoped
from portal.requests.models import EventKind, RequestKind, SubjectRequest
from portal.requests.service import add_event
from portal.retention.holds import on_hold
from portal.rights.models import RestrictionGround, RestrictionNote
from portal.rights.restriction import (
    checked_reason,
    fg_gate,
    lift_restriction,
    place_restriction,
)
from portal.vault.service import Vault

# The kinds whose page offers the steps below.
RESTRICTING = frozenset({RequestKind.RESTRICTION, RequestKind.OBJECTION})


class RetentionDuty(enum.StrEnum):
    """Whether the law obliges the organisation to keep what the family asks to erase."""

    NONE = "none"
    JEUGDWET = "jeugdwet"  # a youth-care provider keeps its file 20 years (Jeugdwet 7.3.8)
    OTHER = "other"  # another legal obligation, named in the explanation


DUTY_LABELS = {
    RetentionDuty.NONE: N_("No legal duty to keep it: erase"),
    RetentionDuty.JEUGDWET: N_("The Jeugdwet obliges the provider to keep the file (20 years)"),
    RetentionDuty.OTHER: N_("Another legal obligation to keep it (name it below)"),
}


@dataclass(frozen=True)
class RequestCase:
    """A case the request concerns, as the FG's request page lists it (no content:
    a case by the day it was opened)."""

    case_id: str
    opened_on: date
    holder: bool  # this FG's organisation holds the case: it decides on erasure
    restriction_id: str | None  # a restriction this request placed, still in force
    restricted: bool  # any restriction in force on the whole case
    erased: bool
    held: bool  # a legal hold keeps it


def request_cases(db: Session, actor: Actor, request: SubjectRequest) -> list[RequestCase]:
    """The cases the request names (or, if none, every case of the child) that this
    FG's organisations take part in. Called for a request already scoped and recorded."""
    query = select(Case).where(Case.child_id == request.child_id)
    if request.case_id is not None:
        query = query.where(Case.id == request.case_id)
    own = fg_organisations(db, actor)
    cases = [c for c in db.scalars(query.order_by(Case.created_at, Case.id))
             if fg_may_see_case(db, actor, c.id)]
    in_force = db.execute(select(Restriction.id, Restriction.case_id, RestrictionNote.source_id)
                          .outerjoin(RestrictionNote,
                                     RestrictionNote.restriction_id == Restriction.id)
                          .where(Restriction.case_id.in_([c.id for c in cases]),
                                 Restriction.item_id.is_(None),
                                 Restriction.lifted_at.is_(None))).all()
    return [RequestCase(
        case_id=case.id, opened_on=local_day(case.created_at),
        holder=case.organisation_id in own,
        restriction_id=next((r.id for r in in_force
                             if r.case_id == case.id and r.source_id == request.id), None),
        restricted=any(r.case_id == case.id for r in in_force),
        erased=case.erased_at is not None, held=on_hold(db, case.id, case.child_id))
        for case in cases]


def _request_case(db: Session, actor: Actor, request: SubjectRequest,
                  case_id: str) -> RequestCase:
    found = next((c for c in request_cases(db, actor, request) if c.case_id == case_id), None)
    if found is None:
        raise InvalidInput({"case": N_("Choose one of the cases this request is about.")})
    return found


def _day(case: RequestCase) -> str:
    return case.opened_on.strftime("%d-%m-%Y")


def restrict_for_request(db: Session, vault: Vault, who: Requester, actor: Actor,
                         now: datetime, request_id: str, form: Mapping[str, str], *,
                         acr: str | None, required_acr: str) -> None:
    """Restrict one case the request concerns, with the FG's written reason."""
    request = _scoped(db, who, actor, now, request_id, "request.restrict", "update")
    if request.kind not in RESTRICTING:
        raise InvalidInput({"case": N_("Only a request for restriction or an objection "
                                       "restricts a case.")})
    case = _request_case(db, actor, request, form.get("case", ""))
    reason = form.get("reason", "")
    place_restriction(db, vault, who, actor, now, case.case_id, reason, acr=acr,
                      required_acr=required_acr, ground=RestrictionGround.FG,
                      source_id=request.id)
    add_event(db, vault, request, EventKind.NOTE, actor, now,
              f"Beperking ingesteld op de casus van {_day(case)}: {reason.strip()}")


def lift_for_request(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                     request_id: str, form: Mapping[str, str], *, acr: str | None,
                     required_acr: str) -> None:
    """Lift the restriction this request placed on a case, with a written reason."""
    request = _scoped(db, who, actor, now, request_id, "request.unrestrict", "update")
    case = _request_case(db, actor, request, form.get("case", ""))
    if case.restriction_id is None:
        raise InvalidInput({"lift_reason": N_("This restriction is not in force.")})
    reason = form.get("lift_reason", "")
    lift_restriction(db, vault, who, actor, now, case.case_id, case.restriction_id, reason,
                     acr=acr, required_acr=required_acr)
    add_event(db, vault, request, EventKind.NOTE, actor, now,
              f"Beperking opgeheven op de casus van {_day(case)}: {reason.strip()}")


def erase_for_request(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                      request_id: str, form: Mapping[str, str], *, acr: str | None,
                      required_acr: str) -> bool:
    """Decide the erasure of one case: kept under a legal duty (False), or shredded (True)."""
    request = _scoped(db, who, actor, now, request_id, "request.erase", "execute")
    if request.kind is not RequestKind.ERASURE:
        raise InvalidInput({"duty": N_("Only a request for erasure erases a case.")})
    listed = _request_case(db, actor, request, form.get("case", ""))
    errors: dict[str, str] = {}
    try:
        duty = RetentionDuty(form.get("duty", ""))
    except ValueError:
        errors["duty"] = N_("Record whether a legal duty to keep the data applies.")
    try:
        explanation = checked_reason(form.get("explanation", ""), "explanation")
    except InvalidInput as invalid:
        errors.update(invalid.errors)
    if not listed.holder:
        errors["case"] = N_("Only the FG of the organisation that holds the case decides "
                            "on its erasure.")
    if errors:
        raise InvalidInput(errors)
    case = fg_gate(db, who, actor, now, listed.case_id, event_type="request.erase.case",
                   action_code="execute", acr=acr, required_acr=required_acr)
    if duty is not RetentionDuty.NONE:
        add_event(db, vault, request, EventKind.NOTE, actor, now,
                  f"Casus van {_day(listed)} niet gewist, wettelijke bewaarplicht "
                  f"({duty.value}): {explanation}")
        return False
    if case.erased_at is not None:
        raise InvalidInput({"case": N_("This case has already been erased.")})
    if on_hold(db, case.id, case.child_id):
        raise InvalidInput({"case": N_("A legal hold keeps this case: lift the hold first, "
                                       "or record why the data must be kept.")})
    if form.get("confirm") != "yes":
        raise InvalidInput({"confirm": N_("Confirm that the erasure cannot be undone.")})
    # The erasure is on record before anything is destroyed, in the same transaction.
    record(db, who, now, event_type="case.erase", action="execute", outcome="allowed",
           case_id=case.id, child_id=case.child_id, object_type="subject_request",
           object_id=request.id, purpose_of_use="audit")
    shred_case(db, vault, case, now, erased_by=actor.person_id, role=who.user_role,
               organisation_id=case.organisation_id)
    add_event(db, vault, request, EventKind.NOTE, actor, now,
              f"Casus van {_day(listed)} gewist op verzoek: {explanation}")
    return True


def page_cases(db: Session, actor: Actor, request_id: str) -> list[RequestCase]:
    """For the request's page, after ``desk_request`` scoped and recorded it: the cases
    the steps above can act on (none for the other kinds)."""
    request = db.get_one(SubjectRequest, request_id)
    if request.kind not in RESTRICTING | {RequestKind.ERASURE}:
        return []
    return request_cases(db, actor, request)
