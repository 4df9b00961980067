"""The FG's requests desk: the list with its clocks, one request, and every step on it.

Every step asks the policy (DPO_REVIEW: the FG's own work) and then the FG's
scope (``portal.dpo.scope``): a request about a case is visible to the FG of
each organisation in that case; one outside the FG's organisations answers as
a request that does not exist (404). Each read and each step is an access
record, allowed or not, before anything is decrypted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.audit.views import is_uuid
from portal.cases.models import Case
from portal.consent.facts import child_standing
from portal.dpo.scope import fg_organisations
from portal.errors import N_, AccessDenied, InvalidInput
from portal.mail.service import enqueue
from portal.people.models import Child, ChildRelation, Membership, Person, PersonKind, Role
from portal.people.names import name_of
from portal.policy import Action, Actor, ChildFacts, Decision, Deny, decide
from portal.requests import copy, effects
from portal.requests.clock import Urgency, local_day
from portal.requests.models import (
    Channel,
    EventKind,
    IdentityCheck,
    Outcome,
    RequestKind,
    RequestStatus,
    SubjectRequest,
)
from portal.requests.service import (
    RequestView,
    add_event,
    binding,
    check_texts,
    clock_of,
    new_request,
    notify_requester,
    request_key,
    request_organisations,
    urgency_of,
    view,
)
from portal.vault.service import Vault, child_field

OBJECT = "subject_request"
PAPER_CHECKS = (IdentityCheck.ID_DOCUMENT, IdentityCheck.KNOWN_IN_PERSON,
                IdentityCheck.SIGNED_LETTER)
IDENTITY_LABELS = {
    IdentityCheck.PORTAL_LOGIN: N_("Logged in to the portal"),
    IdentityCheck.ID_DOCUMENT: N_("Identity document shown"),
    IdentityCheck.KNOWN_IN_PERSON: N_("Known to us in person"),
    IdentityCheck.SIGNED_LETTER: N_("Signed letter compared with our records"),
}
URGENT = frozenset({Urgency.OVERDUE, Urgency.NEARLY_DUE})
ORDER = {Urgency.OVERDUE: 0, Urgency.NEARLY_DUE: 1, Urgency.PAUSED: 2, Urgency.ON_TIME: 3,
         Urgency.CLOSED: 4}
OWNER_SUBJECT = "Verzoek aan u toegewezen / A request was assigned to you"
OWNER_BODY = ("Er is een verzoek van een betrokkene aan u toegewezen in het MDO-portaal. "
              "Log in om het te zien: {link}\n\nA data subject's request was assigned to you "
              "in the MDO Portal. Log in to see it: {link}\n")


@dataclass(frozen=True)
class Choice:
    id: str
    label: str


@dataclass(frozen=True)
class Waiting:
    open: int
    urgent: int  # overdue or nearly due


@dataclass(frozen=True)
class DeskPage:
    request: RequestView
    owners: tuple[Choice, ...]
    may_extend: bool


@dataclass(frozen=True)
class RegisterForm:
    children: tuple[Choice, ...]
    child: Choice | None
    requesters: tuple[Choice, ...]
    cases: tuple[Choice, ...]


def _require_fg(db: Session, who: Requester, actor: Actor, now: datetime, event_type: str,
                action: str = "read") -> Decision:
    decision = decide(actor, Action.DPO_REVIEW)
    if isinstance(decision, Deny):
        record(db, who, now, event_type=event_type, action=action, decision=decision,
               object_type=OBJECT)
        raise AccessDenied(decision)
    return decision


def _in_scope(db: Session, scope: frozenset[str], request: SubjectRequest) -> bool:
    return bool(scope & request_organisations(db, request))


def _scoped(db: Session, who: Requester, actor: Actor, now: datetime, request_id: str,
            event_type: str, action: str) -> SubjectRequest:
    allowed = _require_fg(db, who, actor, now, event_type, action)
    request = db.get(SubjectRequest, request_id) if is_uuid(request_id) else None
    if request is None or not _in_scope(db, fg_organisations(db, actor), request):
        denied = Deny(reason="no_such_request", hide=True)
        record(db, who, now, event_type=event_type, action=action, decision=denied,
               object_type=OBJECT)
        raise AccessDenied(denied)
    record(db, who, now, event_type=event_type, action=action, decision=allowed,
           child_id=request.child_id, case_id=request.case_id, object_type=OBJECT,
           object_id=request.id)
    return request


def _visible_requests(db: Session, actor: Actor) -> list[SubjectRequest]:
    scope = fg_organisations(db, actor)
    return [r for r in db.scalars(select(SubjectRequest).order_by(SubjectRequest.received_on))
            if _in_scope(db, scope, r)]


def desk(db: Session, vault: Vault, who: Requester, actor: Actor,
         now: datetime) -> list[RequestView]:
    """Every request in the FG's scope, most urgent first; each row recorded."""
    allowed = _require_fg(db, who, actor, now, "request.list")
    rows = []
    for request in _visible_requests(db, actor):
        record(db, who, now, event_type="request.list", action="read", decision=allowed,
               child_id=request.child_id, case_id=request.case_id, object_type=OBJECT,
               object_id=request.id)
        rows.append(view(db, vault, request, now, for_requester=False))
    return sorted(rows, key=lambda r: (ORDER[r.urgency], r.due_on or date.max, r.received_on))


def waiting(db: Session, actor: Actor, now: datetime) -> Waiting | None:
    """Counts for the FG's start page (no content, so nothing to record); None: not an FG."""
    if not decide(actor, Action.DPO_REVIEW).allowed:
        return None
    open_requests = [r for r in _visible_requests(db, actor)
                     if r.status is not RequestStatus.DECIDED]
    return Waiting(open=len(open_requests),
                   urgent=sum(urgency_of(db, r, now) in URGENT for r in open_requests))


def desk_request(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                 request_id: str) -> DeskPage:
    request = _scoped(db, who, actor, now, request_id, "request.view", "read")
    shown = view(db, vault, request, now, for_requester=False)
    return DeskPage(request=shown, owners=_owners(db, actor, request),
                    may_extend=shown.open and not shown.clock.extended)


def _owners(db: Session, actor: Actor, request: SubjectRequest) -> tuple[Choice, ...]:
    """Who may own the request: the FGs of the organisations it concerns (and oneself)."""
    organisations = request_organisations(db, request)
    people = db.scalars(select(Person).join(Membership, Membership.person_id == Person.id)
                        .where(Membership.role == Role.DPO, Person.active.is_(True),
                               or_(Membership.organisation_id.in_(organisations),
                                   Person.id == actor.person_id)).distinct()).all()
    return tuple(sorted((Choice(p.id, p.display_name) for p in people),
                        key=lambda c: c.label))


def _open(request: SubjectRequest) -> None:
    if request.status is RequestStatus.DECIDED:
        raise InvalidInput({"step": N_("This request has been decided.")})


def assign(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
           request_id: str, form: Mapping[str, str], public_url: str) -> None:
    request = _scoped(db, who, actor, now, request_id, "request.assign", "update")
    _open(request)
    owner = form.get("owner", "")
    if owner not in {c.id for c in _owners(db, actor, request)}:
        raise InvalidInput({"owner": N_("Choose one of the data protection officers.")})
    request.owner_id = owner
    if request.status is RequestStatus.RECEIVED:
        request.status = RequestStatus.IN_PROGRESS
    add_event(db, vault, request, EventKind.ASSIGNED, actor, now)
    email = db.scalar(select(Person.email).where(Person.id == owner))
    if email and owner != actor.person_id:
        enqueue(db, now, kind="request.assigned", recipient=str(email), subject=OWNER_SUBJECT,
                body=OWNER_BODY.format(link=f"{public_url}/dpo/requests/{request.id}"))


def note(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
         request_id: str, form: Mapping[str, str]) -> None:
    request = _scoped(db, who, actor, now, request_id, "request.note", "update")
    text = form.get("text", "")
    errors = check_texts({}, {"text": text}, required=frozenset({"text"}))
    if errors:
        raise InvalidInput(errors)
    add_event(db, vault, request, EventKind.NOTE, actor, now, text)


def extend(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
           request_id: str, form: Mapping[str, str], public_url: str) -> None:
    """Once, by two months, with a reason the requester reads (GDPR art. 12(3))."""
    request = _scoped(db, who, actor, now, request_id, "request.extend", "update")
    _open(request)
    reason = form.get("reason", "")
    errors = check_texts({}, {"reason": reason}, required=frozenset({"reason"}))
    if clock_of(db, request).extended:
        errors["reason"] = N_("The answer period can be extended only once.")
    if errors:
        raise InvalidInput(errors)
    add_event(db, vault, request, EventKind.EXTENDED, actor, now, reason)
    request.reminded_nearly_due_at = None  # a new due date: remind again before it
    notify_requester(db, request, now, public_url)


def ask_identity(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                 request_id: str, form: Mapping[str, str], public_url: str) -> None:
    """Ask the requester to prove who they are: the clock pauses until they answer."""
    request = _scoped(db, who, actor, now, request_id, "request.identity", "update")
    _open(request)
    question = form.get("question", "")
    errors = check_texts({}, {"question": question}, required=frozenset({"question"}))
    if request.status is RequestStatus.IDENTITY_CHECK:
        errors["question"] = N_("An identity check is already waiting for an answer.")
    if errors:
        raise InvalidInput(errors)
    request.status = RequestStatus.IDENTITY_CHECK
    add_event(db, vault, request, EventKind.IDENTITY_ASKED, actor, now, question)
    notify_requester(db, request, now, public_url)


def record_identity_answer(db: Session, vault: Vault, who: Requester, actor: Actor,
                           now: datetime, request_id: str, form: Mapping[str, str]) -> None:
    """The requester answered outside the portal (at the desk, by letter): the clock resumes."""
    request = _scoped(db, who, actor, now, request_id, "request.identity_answer", "update")
    text = form.get("answer", "")
    errors = check_texts({}, {"answer": text}, required=frozenset({"answer"}))
    if request.status is not RequestStatus.IDENTITY_CHECK:
        errors["answer"] = N_("No identity check is waiting for an answer.")
    if errors:
        raise InvalidInput(errors)
    request.status = RequestStatus.IN_PROGRESS
    add_event(db, vault, request, EventKind.IDENTITY_ANSWERED, actor, now, text)


def decide_request(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                   request_id: str, form: Mapping[str, str], public_url: str) -> None:
    """The one answer to the family: the outcome and the reasons they read."""
    request = _scoped(db, who, actor, now, request_id, "request.decide", "update")
    _open(request)
    errors: dict[str, str] = {}
    try:
        outcome = Outcome(form.get("outcome", ""))
    except ValueError:
        errors["outcome"] = N_("Choose the decision.")
    reasons = form.get("reasons", "")
    check_texts(errors, {"reasons": reasons}, required=frozenset({"reasons"}))
    if request.status is RequestStatus.IDENTITY_CHECK:
        errors["outcome"] = N_("The identity check has not been answered yet.")
    if errors:
        raise InvalidInput(errors)
    request.outcome = outcome
    request.reasons_ct = vault.seal(request_key(db, vault, request), reasons,
                                    binding(request, "reasons"))
    request.status = RequestStatus.DECIDED
    request.decided_at = now
    add_event(db, vault, request, EventKind.DECIDED, actor, now)
    effects.on_decided(db, vault, actor, now, request, reasons)
    notify_requester(db, request, now, public_url)


def _children_in_scope(db: Session, actor: Actor) -> list[Child]:
    scope = fg_organisations(db, actor)
    with_cases = select(Case.child_id).where(Case.organisation_id.in_(scope))
    return list(db.scalars(select(Child).where(or_(Child.school_id.in_(scope),
                                                   Child.id.in_(with_cases)))))


def register_form(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                  child_id: str | None) -> RegisterForm:
    """Step one: the child (names read and recorded); step two: who asks, about which case."""
    allowed = _require_fg(db, who, actor, now, "request.register.form")
    children = []
    chosen = None
    for child in _children_in_scope(db, actor):
        record(db, who, now, event_type="request.register.form", action="read",
               decision=allowed, child_id=child.id, object_type="child", object_id=child.id)
        choice = Choice(child.id, vault.open(db, child.name_ct, child_field(child.id, "name")))
        children.append(choice)
        if child.id == child_id:
            chosen = choice
    if chosen is None:
        return RegisterForm(tuple(sorted(children, key=lambda c: c.label)), None, (), ())
    child = db.get_one(Child, chosen.id)
    return RegisterForm(tuple(sorted(children, key=lambda c: c.label)), chosen,
                        _requesters(db, vault, child, now), _cases(db, child))


def _requesters(db: Session, vault: Vault, child: Child, now: datetime) -> tuple[Choice, ...]:
    """Who may ask about this child: the same REQUEST_FILE standing the portal checks."""
    ids = set(db.scalars(select(ChildRelation.person_id)
                         .where(ChildRelation.child_id == child.id)))
    if child.person_id:
        ids.add(child.person_id)
    choices = []
    for person in db.scalars(select(Person).where(Person.id.in_(ids))):
        standing = child_standing(db, vault, child, person.id, now)
        asking = Actor(person_id=person.id, kind=PersonKind.CITIZEN, name="")
        if decide(asking, Action.REQUEST_FILE,
                  child=ChildFacts(child_id=child.id, standing=standing)).allowed:
            choices.append(Choice(person.id, name_of(db, vault, person)))
    return tuple(sorted(choices, key=lambda c: c.label))


def _cases(db: Session, child: Child) -> tuple[Choice, ...]:
    # A case by its date: the FG reads no case content.
    return tuple(Choice(case.id, local_day(case.created_at).strftime("%d-%m-%Y"))
                 for case in db.scalars(select(Case).where(Case.child_id == child.id)
                                        .order_by(Case.created_at)))


def register_request(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                     form: Mapping[str, str]) -> str:
    """A request received on paper or by mail, registered on the requester's behalf."""
    allowed = _require_fg(db, who, actor, now, "request.register", "create")
    child_id = form.get("child", "")
    child = next((c for c in _children_in_scope(db, actor) if c.id == child_id), None)
    if child is None:
        denied = Deny(reason="no_such_child", hide=True)
        record(db, who, now, event_type="request.register", action="create", decision=denied,
               object_type=OBJECT)
        raise AccessDenied(denied)
    errors: dict[str, str] = {}
    requester = form.get("requester", "")
    if requester not in {c.id for c in _requesters(db, vault, child, now)}:
        errors["requester"] = N_("Choose a parent with custody, a guardian or the pupil.")
    try:
        kind = RequestKind(form.get("kind", ""))
    except ValueError:
        errors["kind"] = N_("Choose what is asked for.")
    try:
        identity = IdentityCheck(form.get("identity", ""))
        if identity not in PAPER_CHECKS:
            raise ValueError(identity)
    except ValueError:
        errors["identity"] = N_("Record how the identity was checked.")
    received_on = _received_on(form.get("received_on", ""), now, errors)
    case_id = form.get("case", "") or None
    if case_id is not None and case_id not in {c.id for c in _cases(db, child)}:
        errors["case"] = N_("Choose one of the cases about this child.")
    description = form.get("description", "")
    check_texts(errors, {"description": description}, required=frozenset({"description"}))
    if errors:
        raise InvalidInput(errors)
    request = new_request(db, vault, actor, now, kind=kind, child=child, case_id=case_id,
                          requester_id=requester, channel=Channel.PAPER, identity=identity,
                          received_on=received_on, description=description,
                          owner_id=actor.person_id)
    record(db, who, now, event_type="request.register", action="create", decision=allowed,
           child_id=child.id, case_id=case_id, object_type=OBJECT, object_id=request.id)
    add_event(db, vault, request, EventKind.REGISTERED, actor, now)
    effects.on_filed(db, vault, actor, now, request)
    return request.id


def _received_on(value: str, now: datetime, errors: dict[str, str]) -> date | None:
    """The day the letter arrived: the clock counts from it, however late it is registered."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        errors["received_on"] = N_("Enter the date the request was received.")
        return None
    if day > local_day(now) or day.year < 2000:
        errors["received_on"] = N_("The date of receipt cannot lie in the future.")
        return None
    return day


COPY_KINDS = frozenset({RequestKind.INSPECTION, RequestKind.PORTABILITY})


def prepare_copy(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                 request_id: str) -> None:
    """Assemble the inspection copy as the requester may see it, for the FG's review."""
    request = _scoped(db, who, actor, now, request_id, "request.copy.prepare", "execute")
    _open(request)
    if request.kind not in COPY_KINDS:
        raise InvalidInput({"step": N_("Only an inspection or portability request gets a copy.")})
    if request.status is RequestStatus.IDENTITY_CHECK:
        raise InvalidInput({"step": N_("The identity check has not been answered yet.")})
    copy.seal(db, vault, request, copy.assemble(db, vault, who, now, request))
    request.copy_prepared_at = now
    request.copy_released_at = None
    add_event(db, vault, request, EventKind.COPY_PREPARED, actor, now)


def review_copy(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                request_id: str) -> tuple[RequestView, dict[str, Any]]:
    request = _scoped(db, who, actor, now, request_id, "request.copy.review", "read")
    if request.copy_ct is None:
        denied = Deny(reason="no_copy", hide=True)
        record(db, who, now, event_type="request.copy.review", action="read", decision=denied,
               object_type=OBJECT)
        raise AccessDenied(denied)
    return view(db, vault, request, now, for_requester=False), copy.opened(db, vault, request)


def release_copy(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                 request_id: str, public_url: str) -> None:
    """The FG has reviewed the copy: the requester may download it (recorded)."""
    request = _scoped(db, who, actor, now, request_id, "request.copy.release", "update")
    if request.copy_ct is None:
        raise InvalidInput({"step": N_("Prepare the copy first.")})
    if request.copy_released_at is None:
        request.copy_released_at = now
        add_event(db, vault, request, EventKind.COPY_RELEASED, actor, now)
        notify_requester(db, request, now, public_url)
