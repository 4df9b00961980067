"""The family's side: file a request about one's child (or oneself), follow it, answer.

Who may file is the policy's REQUEST_FILE on the child: a parent with custody
or a guardian of a child under 16, the pupil from 16 (the same standing as the
family pages). Without standing the answer is the one a non-existent child
gets (404), and the attempt is on record. A requester reads only their own
requests: status, the history meant for them, and the decision with reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.audit.views import is_uuid
from portal.cases.models import Case
from portal.consent.facts import child_standing
from portal.errors import N_, AccessDenied, InvalidInput
from portal.parents.service import FamilyChild, family_home
from portal.people.models import Child
from portal.policy import Action, Actor, ChildFacts, Decision, Deny, decide
from portal.requests import copy, effects
from portal.requests.models import (
    Channel,
    EventKind,
    IdentityCheck,
    RequestKind,
    RequestStatus,
    SubjectRequest,
)
from portal.requests.service import (
    RequestView,
    add_event,
    check_texts,
    new_request,
    notify_fgs,
    view,
)
from portal.vault.service import Vault

OBJECT = "subject_request"


@dataclass(frozen=True)
class FilingChoices:
    children: tuple[FamilyChild, ...]  # those the actor may file a request about


def _child_decision(db: Session, vault: Vault, actor: Actor, child: Child,
                    now: datetime) -> Decision:
    standing = child_standing(db, vault, child, actor.person_id, now)
    return decide(actor, Action.REQUEST_FILE, child=ChildFacts(child_id=child.id,
                                                               standing=standing))


def _require_family(db: Session, who: Requester, actor: Actor, now: datetime,
                    event_type: str) -> None:
    decision = decide(actor, Action.FAMILY_LIST)
    if isinstance(decision, Deny):
        record(db, who, now, event_type=event_type, action="read", decision=decision,
               object_type=OBJECT, purpose_of_use="own_data")
        raise AccessDenied(decision)


def filing_choices(db: Session, vault: Vault, who: Requester, actor: Actor,
                   now: datetime) -> FilingChoices:
    """The children (and their cases) the actor may file about; the family home's
    own reads, each decided and recorded there."""
    _require_family(db, who, actor, now, "request.form")
    children = []
    for child in family_home(db, vault, who, actor, now):
        if _child_decision(db, vault, actor, db.get_one(Child, child.id), now).allowed:
            children.append(child)
    return FilingChoices(children=tuple(children))


def file_request(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                 form: Mapping[str, str], public_url: str) -> str:
    """A request filed by the requester, logged in: received today (Dutch date)."""
    _require_family(db, who, actor, now, "request.file")
    child_id = form.get("child", "")
    child = db.get(Child, child_id) if is_uuid(child_id) else None
    decision: Decision = Deny(reason="no_such_child", hide=True)
    if child is not None:
        decision = _child_decision(db, vault, actor, child, now)
    if isinstance(decision, Deny):
        # No standing answers exactly as a child that does not exist.
        hidden = Deny(reason=decision.reason, hide=True)
        record(db, who, now, event_type="request.file", action="create", decision=hidden,
               child_id=child.id if child else None, object_type=OBJECT,
               purpose_of_use="own_data")
        raise AccessDenied(hidden)
    assert child is not None
    errors: dict[str, str] = {}
    kind = _kind(form.get("kind", ""), errors)
    case_id = form.get("case", "") or None
    if case_id is not None and db.scalar(select(Case.id).where(
            Case.id == case_id, Case.child_id == child.id)) is None:
        errors["case"] = N_("Choose one of the cases about this child.")
    description = form.get("description", "")
    check_texts(errors, {"description": description})
    if errors:
        raise InvalidInput(errors)
    assert kind is not None
    request = new_request(db, vault, actor, now, kind=kind, child=child, case_id=case_id,
                           requester_id=actor.person_id, channel=Channel.PORTAL,
                           identity=IdentityCheck.PORTAL_LOGIN, received_on=None,
                           description=description)
    record(db, who, now, event_type="request.file", action="create", decision=decision,
           child_id=child.id, case_id=case_id, object_type=OBJECT, object_id=request.id,
           purpose_of_use="own_data")
    add_event(db, vault, request, EventKind.FILED, actor, now)
    effects.on_filed(db, vault, actor, now, request)
    notify_fgs(db, request, now, public_url)
    return request.id


def _kind(value: str, errors: dict[str, str]) -> RequestKind | None:
    try:
        return RequestKind(value)
    except ValueError:
        errors["kind"] = N_("Choose what you ask for.")
        return None


def _own_request(db: Session, who: Requester, actor: Actor, now: datetime, request_id: str,
                 event_type: str, action: str) -> SubjectRequest:
    """The requester's own request, recorded; anyone else's is 404 (and on record)."""
    _require_family(db, who, actor, now, event_type)
    request = db.get(SubjectRequest, request_id) if is_uuid(request_id) else None
    if request is None or request.requester_id != actor.person_id:
        denied = Deny(reason="no_such_request", hide=True)
        record(db, who, now, event_type=event_type, action=action, decision=denied,
               object_type=OBJECT, purpose_of_use="own_data")
        raise AccessDenied(denied)
    allowed = decide(actor, Action.FAMILY_LIST)
    record(db, who, now, event_type=event_type, action=action, decision=allowed,
           child_id=request.child_id, case_id=request.case_id, object_type=OBJECT,
           object_id=request.id, purpose_of_use="own_data")
    return request


def my_requests(db: Session, vault: Vault, who: Requester, actor: Actor,
                now: datetime) -> list[RequestView]:
    """The actor's own requests, newest first, each read recorded."""
    _require_family(db, who, actor, now, "request.list")
    allowed = decide(actor, Action.FAMILY_LIST)
    views = []
    for request in db.scalars(select(SubjectRequest).where(
            SubjectRequest.requester_id == actor.person_id)
            .order_by(SubjectRequest.created_at.desc())):
        record(db, who, now, event_type="request.list", action="read", decision=allowed,
               child_id=request.child_id, case_id=request.case_id, object_type=OBJECT,
               object_id=request.id, purpose_of_use="own_data")
        views.append(view(db, vault, request, now, for_requester=True))
    return views


def my_request(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
               request_id: str) -> RequestView:
    request = _own_request(db, who, actor, now, request_id, "request.view", "read")
    return view(db, vault, request, now, for_requester=True)


def answer_identity(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                    request_id: str, form: Mapping[str, str], public_url: str) -> None:
    """The requester answers the FG's identity check: the clock resumes."""
    request = _own_request(db, who, actor, now, request_id, "request.identity", "update")
    answer = form.get("answer", "")
    errors = check_texts({}, {"answer": answer}, required=frozenset({"answer"}))
    if request.status is not RequestStatus.IDENTITY_CHECK:
        errors["answer"] = N_("No identity check is waiting for an answer.")
    if errors:
        raise InvalidInput(errors)
    add_event(db, vault, request, EventKind.IDENTITY_ANSWERED, actor, now, answer)
    request.status = RequestStatus.IN_PROGRESS
    notify_fgs(db, request, now, public_url)


def download_copy(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                  request_id: str, fmt: str) -> tuple[bytes, str]:
    """The released copy as PDF or JSON; before its release the requester's own request
    has no copy to download (404, on record)."""
    request = _own_request(db, who, actor, now, request_id, f"request.copy.{fmt}", "read")
    if request.copy_ct is None or request.copy_released_at is None:
        denied = Deny(reason="no_copy", hide=True)
        record(db, who, now, event_type=f"request.copy.{fmt}", action="read", decision=denied,
               child_id=request.child_id, object_type=OBJECT, object_id=request.id,
               purpose_of_use="own_data")
        raise AccessDenied(denied)
    content = copy.opened(db, vault, request)
    return (copy.as_pdf(content), "application/pdf") if fmt == "pdf" \
        else (copy.as_json(content), "application/json")
