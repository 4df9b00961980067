"""What both sides of a request share: sealing, events, the clock, scope and views.

Whose organisations a request concerns follows the case it names (the case's
own organisation and every organisation taking part: each one's FG sees it and
handles their part) or, without a case, the child's school and every
organisation in any case about the child. The FG side asks
``portal.dpo.scope`` for the FG's organisations; nothing here decides scope
by itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import Binding
from portal.cases.models import Case
from portal.dpo.scope import case_organisations, fg_emails
from portal.errors import N_
from portal.mail.service import enqueue
from portal.people.models import Child, Person
from portal.people.names import name_of
from portal.policy import Actor
from portal.requests.clock import (
    Clock,
    ClockEvent,
    Tick,
    Urgency,
    compute,
    local_day,
    urgency,
)
from portal.requests.models import (
    VISIBLE_TO_REQUESTER,
    Channel,
    EventKind,
    IdentityCheck,
    Outcome,
    RequestKind,
    RequestStatus,
    SubjectRequest,
    SubjectRequestEvent,
)
from portal.vault.service import FieldKey, Vault, child_field
from portal.web.text import check_text

MAX_TEXT = 4000
TICKS = {EventKind.IDENTITY_ASKED: Tick.IDENTITY_ASKED,
         EventKind.IDENTITY_ANSWERED: Tick.IDENTITY_ANSWERED,
         EventKind.EXTENDED: Tick.EXTENDED}

KIND_LABELS: Mapping[RequestKind, str] = {
    RequestKind.INSPECTION: N_("Inspection and a copy"),
    RequestKind.RECTIFICATION: N_("Rectification"),
    RequestKind.ERASURE: N_("Erasure"),
    RequestKind.RESTRICTION: N_("Restriction of processing"),
    RequestKind.OBJECTION: N_("Objection"),
    RequestKind.PORTABILITY: N_("Data portability"),
}
STATUS_LABELS: Mapping[RequestStatus, str] = {
    RequestStatus.RECEIVED: N_("Received"),
    RequestStatus.IDENTITY_CHECK: N_("Waiting for your identity check"),
    RequestStatus.IN_PROGRESS: N_("In progress"),
    RequestStatus.DECIDED: N_("Decided"),
}
OUTCOME_LABELS: Mapping[Outcome, str] = {
    Outcome.GRANTED: N_("Granted"),
    Outcome.PARTLY_GRANTED: N_("Partly granted"),
    Outcome.REFUSED: N_("Refused"),
}
EVENT_LABELS: Mapping[EventKind, str] = {
    EventKind.FILED: N_("Request filed in the portal"),
    EventKind.REGISTERED: N_("Request registered by the data protection officer"),
    EventKind.ASSIGNED: N_("Handler assigned"),
    EventKind.NOTE: N_("Note"),
    EventKind.EXTENDED: N_("Answer period extended by two months"),
    EventKind.IDENTITY_ASKED: N_("Identity check asked"),
    EventKind.IDENTITY_ANSWERED: N_("Identity check answered"),
    EventKind.DECIDED: N_("Decision"),
    EventKind.COPY_PREPARED: N_("Copy assembled for review"),
    EventKind.COPY_RELEASED: N_("Copy released: ready to download"),
}
URGENCY_LABELS: Mapping[Urgency, str] = {
    Urgency.ON_TIME: N_("On time"),
    Urgency.NEARLY_DUE: N_("Nearly due"),
    Urgency.OVERDUE: N_("Overdue"),
    Urgency.PAUSED: N_("Paused: identity check"),
    Urgency.CLOSED: N_("Closed"),
}

NOTICE_SUBJECT = "Verzoek in het MDO-portaal / Request in the MDO Portal"
NOTICE_BODY = ("Er is iets veranderd aan een verzoek in het MDO-portaal. Log in om te zien wat: "
               "{link}\n\nSomething changed in a request in the MDO Portal. Log in to see what: "
               "{link}\n")
NEW_SUBJECT = "Nieuw verzoek van een betrokkene / New data subject request"
NEW_BODY = ("Er is een nieuw verzoek van een ouder, voogd of leerling binnengekomen. "
            "Log in om het te behandelen: {link}\n\nA new request of a data subject is "
            "waiting in the MDO Portal. Log in to handle it: {link}\n")


@dataclass(frozen=True)
class EventView:
    kind: EventKind
    at: datetime
    by: str
    text: str | None


@dataclass(frozen=True)
class RequestView:
    id: str
    kind: RequestKind
    status: RequestStatus
    received_on: date
    channel: str
    identity_check: str
    child_id: str
    child_name: str
    case_id: str | None
    requester_name: str
    owner_id: str | None
    owner_name: str | None
    description: str
    outcome: Outcome | None
    reasons: str | None
    clock: Clock
    urgency: Urgency
    events: tuple[EventView, ...]
    copy_prepared_at: datetime | None = None
    copy_released_at: datetime | None = None

    @property
    def due_on(self) -> date | None:
        return self.clock.due_on

    @property
    def open(self) -> bool:
        return self.status is not RequestStatus.DECIDED


def binding(request: SubjectRequest, name: str) -> Binding:
    return Binding(purpose="subject-request", case_id=request.case_id or "",
                   object_type="subject_request", object_id=request.id, version=1, field=name)


def request_key(db: Session, vault: Vault, request: SubjectRequest) -> FieldKey:
    return vault.key_by_id(db, request.data_key_id, owner=("subject_request", request.id))


def add_event(db: Session, vault: Vault, request: SubjectRequest, kind: EventKind,
              actor: Actor, now: datetime, text: str | None = None) -> SubjectRequestEvent:
    event = SubjectRequestEvent(request_id=request.id, kind=kind, at=now,
                                person_id=actor.person_id,
                                organisation_id=min(actor.organisation_ids, default=None),
                                visible_to_requester=kind in VISIBLE_TO_REQUESTER)
    db.add(event)
    db.flush()
    if text:
        event.text_ct = vault.seal(request_key(db, vault, request), text,
                                   binding(request, f"event:{event.id}"))
    return event


def clock_of(db: Session, request: SubjectRequest) -> Clock:
    ticks = db.execute(select(SubjectRequestEvent.kind, SubjectRequestEvent.at).where(
        SubjectRequestEvent.request_id == request.id,
        SubjectRequestEvent.kind.in_(list(TICKS)))).all()
    return compute(request.kind is RequestKind.INSPECTION, request.received_on,
                   [ClockEvent(TICKS[kind], at) for kind, at in ticks])


def urgency_of(db: Session, request: SubjectRequest, now: datetime) -> Urgency:
    return urgency(clock_of(db, request), now, closed=request.status is RequestStatus.DECIDED)


def request_organisations(db: Session, request: SubjectRequest) -> frozenset[str]:
    """The organisations whose FG handles (their part of) this request."""
    if request.case_id is not None:
        return case_organisations(db, request.case_id)
    child = db.get_one(Child, request.child_id)
    organisations = {child.school_id} if child.school_id else set()
    for case_id in db.scalars(select(Case.id).where(Case.child_id == child.id)):
        organisations |= case_organisations(db, case_id)
    return frozenset(organisations)


def check_texts(errors: dict[str, str], fields: Mapping[str, str], *,
                required: frozenset[str] = frozenset()) -> dict[str, str]:
    """The rules every written field of a request keeps: present where needed,
    not too long, no hidden characters."""
    for name, value in fields.items():
        if name in required and not value.strip():
            errors.setdefault(name, N_("This field is required."))
        elif len(value) > MAX_TEXT:
            errors.setdefault(name, N_("This text is too long."))
    check_text(errors, fields, multiline=fields)
    return errors


def view(db: Session, vault: Vault, request: SubjectRequest, now: datetime, *,
         for_requester: bool) -> RequestView:
    """The request in words; the caller has decided and recorded the access."""
    key = request_key(db, vault, request)
    child = db.get_one(Child, request.child_id)
    events = db.scalars(select(SubjectRequestEvent).where(
        SubjectRequestEvent.request_id == request.id)
        .order_by(SubjectRequestEvent.at, SubjectRequestEvent.id)).all()
    shown = [e for e in events if e.visible_to_requester or not for_requester]
    people = {pid: db.get_one(Person, pid) for pid in
              {request.requester_id, *(e.person_id for e in shown),
               *([request.owner_id] if request.owner_id else [])}}

    def who(person_id: str) -> str:
        return name_of(db, vault, people[person_id])

    clock = clock_of(db, request)
    return RequestView(
        id=request.id, kind=request.kind, status=request.status,
        received_on=request.received_on, channel=request.channel.value,
        identity_check=request.identity_check.value, child_id=child.id,
        child_name=vault.open(db, child.name_ct, child_field(child.id, "name")),
        case_id=request.case_id, requester_name=who(request.requester_id),
        owner_id=request.owner_id,
        owner_name=who(request.owner_id) if request.owner_id and not for_requester else None,
        description=vault.open(db, request.description_ct, binding(request, "description"), key),
        outcome=request.outcome,
        reasons=vault.open(db, request.reasons_ct, binding(request, "reasons"), key)
        if request.reasons_ct else None,
        clock=clock,
        urgency=urgency(clock, now, closed=request.status is RequestStatus.DECIDED),
        events=tuple(EventView(
            kind=e.kind, at=e.at,
            # The requester reads who acted by role, not the professional's name.
            by="" if for_requester and e.person_id != request.requester_id else who(e.person_id),
            text=vault.open(db, e.text_ct, binding(request, f"event:{e.id}"), key)
            if e.text_ct else None) for e in shown),
        copy_prepared_at=request.copy_prepared_at, copy_released_at=request.copy_released_at)


def notify_fgs(db: Session, request: SubjectRequest, now: datetime, public_url: str) -> None:
    """Content-free mail to the FG of every organisation the request concerns."""
    for email in fg_emails(db, request_organisations(db, request)):
        enqueue(db, now, kind="request.new", recipient=email, subject=NEW_SUBJECT,
                body=NEW_BODY.format(link=f"{public_url}/dpo/requests/{request.id}"))


def notify_requester(db: Session, request: SubjectRequest, now: datetime,
                     public_url: str) -> None:
    """Content-free mail to the requester that their request moved."""
    email = db.scalar(select(Person.email).where(Person.id == request.requester_id))
    if email:
        enqueue(db, now, kind="request.changed", recipient=str(email), subject=NOTICE_SUBJECT,
                body=NOTICE_BODY.format(link=f"{public_url}/family/requests/{request.id}"))


def new_request(db: Session, vault: Vault, actor: Actor, now: datetime, *,
                kind: RequestKind, child: Child, case_id: str | None, requester_id: str,
                channel: Channel, identity: IdentityCheck, received_on: date | None,
                description: str, owner_id: str | None = None) -> SubjectRequest:
    """A new request, its words sealed under its own data key; received today unless
    the FG entered the day a letter arrived."""
    request = SubjectRequest(
        kind=kind, requester_id=requester_id, child_id=child.id, case_id=case_id,
        channel=channel, identity_check=identity,
        received_on=received_on or local_day(now), status=RequestStatus.RECEIVED,
        owner_id=owner_id, data_key_id="", description_ct=b"", created_at=now,
        created_by=actor.person_id)
    db.add(request)
    db.flush()
    key = vault.new_key(db, "subject_request", request.id, now)
    request.data_key_id = key.id
    request.description_ct = vault.seal(key, description, binding(request, "description"))
    db.flush()
    return request
