"""Legal grounds other than consent: scoped, justified, accountable exceptions.

A ground is invoked for a specific disclosure (the report to Veilig Thuis, the
TLV request to the samenwerkingsverband, the information to the youth protector
under an OTS): recipients, categories, from/until. Outside that scope consent
decides (the engine, ``ConsentCase.grounds``). Only the roles an organisation
allows (default: care coordinator, school leader, youth-care worker) invoke,
change or end one, always with a written reason, encrypted with the case's
data key. Vital interest and the safety exception tell the DPO of every
organisation in the case (a content-free e-mail) and wait in the DPO's queue
for a review. The duties a ground leaves become tasks with an owner and a due
date that the chair sees until they are marked done with a note. Every
invocation, change, end and review is a ``GroundEvent`` on the case timeline
and an access record.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import Binding
from portal.audit.service import Requester, record
from portal.cases.gate import case_facts, is_uuid
from portal.cases.models import Case, CaseParticipant
from portal.consent import invokers
from portal.consent.access import local_date
from portal.consent.facts import case_setting
from portal.consent.models import (
    CaseGround,
    GroundEvent,
    GroundEventKind,
    GroundTask,
)
from portal.consent.rules import (
    DEFAULT_CATEGORIES,
    LEGAL_GROUNDS,
    RECIPIENT_RE,
    Basis,
    Duty,
    Setting,
)
from portal.consent.status import ordered_categories
from portal.consent.summary import Label, case_recipients, labels_for
from portal.dpo.scope import fg_case_ids, fg_emails_for_case, supervised
from portal.errors import N_, AccessDenied, InvalidInput
from portal.mail.service import enqueue
from portal.people.models import (
    ChildRelation,
    Organisation,
    OrganisationKind,
    Person,
    Role,
)
from portal.people.models import Relation as ChildRelationKind
from portal.policy import Action, Actor, CaseFacts, Deny, decide
from portal.vault.service import Vault
from portal.web.text import check_text, require_clean_text

# Grounds that reach the DPO at once and wait for a review.
REVIEWED_GROUNDS = frozenset({Basis.VITAL_INTEREST, Basis.SAFETY_EXCEPTION})
INVOCABLE = tuple(b for b in Basis if b is not Basis.CONSENT)
TASK_DUTIES = frozenset({Duty.INFORM, Duty.TRY_TO_OBTAIN_CONSENT})
DUE_AFTER = timedelta(days=14)
REASON_MIN = 20
REASON_MAX = 2000
NOTE_MAX = 2000
# Content-free: no child, no case title, no reason. Dutch, as the DPO reads it.
DPO_SUBJECT = "MDO-portaal: wettelijke grondslag zonder toestemming gebruikt"
DPO_BODY = ("In het MDO-portaal is bij een casus een wettelijke grondslag zonder toestemming "
            "ingeroepen die uw beoordeling vraagt (vitaal belang of ernstige zorgen over de "
            "veiligheid).\n\nBeoordeel dit in het portaal: {link}\n")


def ground_binding(case_id: str, object_type: str, object_id: str, name: str) -> Binding:
    return Binding(purpose="case-field", case_id=case_id, object_type=object_type,
                   object_id=object_id, version=1, field=name)


@dataclass(frozen=True)
class GroundScope:
    """What a ground covers, as the invoker chose it (validated)."""

    basis: Basis
    recipients: tuple[str, ...]
    categories: tuple[str, ...]
    valid_from: date
    valid_until: date | None


def default_recipients(db: Session, case: Case, basis: Basis, invoker_id: str) -> list[str]:
    """The leaflet's recipient for a ground; otherwise the narrow default, the invoker.

    The same rule the migration of older cases (revision 0022) applies.
    """
    if basis is Basis.OTS:
        protectors = [] if case.child_id is None else db.scalars(
            select(ChildRelation.person_id).where(
                ChildRelation.child_id == case.child_id,
                ChildRelation.relation == ChildRelationKind.YOUTH_PROTECTOR_OTS)).all()
        return [f"role:{Role.YOUTH_PROTECTOR.value}", *sorted(f"adult:{p}" for p in protectors)]
    if basis is Basis.TLV_OR_EXTRA_SUPPORT:
        organisations = db.scalars(
            select(Organisation.id).join(CaseParticipant,
                                         CaseParticipant.organisation_id == Organisation.id)
            .where(CaseParticipant.case_id == case.id,
                   Organisation.kind == OrganisationKind.SAMENWERKINGSVERBAND).distinct()).all()
        if organisations:
            return sorted(f"org:{o}" for o in organisations)
    return [f"person:{invoker_id}"]


def parse_scope(form: Mapping[str, object], today: date) -> tuple[GroundScope, str]:
    """The scope and the justification from a form; InvalidInput names each bad field."""
    errors: dict[str, str] = {}
    basis = next((b for b in INVOCABLE if b.value == form.get("basis")), Basis.CONSENT)
    if basis not in INVOCABLE:
        errors["basis"] = N_("Choose the legal ground.")
    recipients = _listed(form.get("recipients"))
    if not recipients or not all(RECIPIENT_RE.match(r) for r in recipients):
        errors["recipients"] = N_("Choose who may receive the data on this ground.")
    categories = _listed(form.get("categories"))
    if not categories or not set(categories) <= DEFAULT_CATEGORIES:
        errors["categories"] = N_("Choose the data categories this ground covers.")
    valid_from = _date(form.get("valid_from"), today, errors, "valid_from")
    until_text = str(form.get("valid_until") or "").strip()
    valid_until = _date(until_text, today, errors, "valid_until") if until_text else None
    if valid_from and valid_until and valid_until < valid_from:
        errors["valid_until"] = N_("The end date is before the start date.")
    justification = str(form.get("justification") or "").strip()
    if len(justification) < REASON_MIN:
        errors["justification"] = N_("Write down why this ground applies (at least a sentence).")
    elif len(justification) > REASON_MAX:
        errors["justification"] = N_("The justification is too long.")
    check_text(errors, {"justification": justification}, multiline=("justification",))
    if errors:
        raise InvalidInput(errors)
    return GroundScope(basis, tuple(sorted(set(recipients))), tuple(sorted(set(categories))),
                       valid_from or today, valid_until), justification


def _listed(value: object) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable):
        return []
    return [str(v).strip() for v in value if str(v).strip()]


def _date(value: object, today: date, errors: dict[str, str], name: str) -> date | None:
    text = str(value or "").strip()
    if not text:
        return today
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = N_("Give a date as YYYY-MM-DD.")
        return None


def _gate(db: Session, who: Requester, actor: Actor, now: datetime, case_id: str,
          event_type: str, action: Action = Action.GROUND_INVOKE,
          access: str = "update") -> CaseFacts:
    """``invokers.check``, with every refusal recorded."""
    facts = case_facts(db, case_id) if is_uuid(case_id) else None
    decision = invokers.check(db, actor, facts, action)
    if isinstance(decision, Deny):
        record(db, who, now, event_type=event_type, action=access, decision=decision,
               case_id=facts.case_id if facts else None,
               child_id=facts.child_id if facts else None, object_type="case",
               object_id=case_id if is_uuid(case_id) else None)
        raise AccessDenied(decision)
    assert facts is not None
    return facts


def invoke_ground(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                  case_id: str, scope: GroundScope, justification: str,
                  public_url: str) -> str:
    """Invoke a ground on a case within ``scope``; returns the ground's id."""
    facts = _gate(db, who, actor, now, case_id, "ground.invoke")
    case = db.get_one(Case, facts.case_id)
    key = vault.key_for(db, case.title_ct)
    ground_id = str(uuid.uuid4())
    ground = CaseGround(
        id=ground_id, case_id=case.id, basis=scope.basis, recipients=list(scope.recipients),
        categories=list(scope.categories), valid_from=scope.valid_from,
        valid_until=scope.valid_until,
        justification_ct=vault.seal(key, justification,
                                    ground_binding(case.id, "ground", ground_id,
                                                   "justification")),
        invoked_by=actor.person_id, invoked_at=now,
        needs_review=scope.basis in REVIEWED_GROUNDS)
    db.add(ground)
    db.flush()
    _event(db, vault, case, ground_id, GroundEventKind.INVOKED, actor.person_id, now, None)
    rule = LEGAL_GROUNDS[scope.basis]
    duty = rule.duty_school if case_setting(db, case) is Setting.SCHOOL else rule.duty_youth_care
    if duty in TASK_DUTIES:
        assert duty is not None
        db.add(GroundTask(ground_id=ground_id, case_id=case.id, duty=duty,
                          owner_id=actor.person_id, due_on=local_date(now) + DUE_AFTER))
    if ground.needs_review:
        _notify_dpos(db, case, now, public_url)
    db.flush()
    record(db, who, now, event_type="ground.invoke", action="create", outcome="allowed",
           case_id=case.id,
           child_id=case.child_id, object_type="ground", object_id=ground_id,
           legal_ground=scope.basis.value, data_categories=scope.categories)
    return ground_id


def change_ground(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                  case_id: str, ground_id: str, scope: GroundScope, reason: str) -> None:
    """Change a ground's scope (not its kind), with a written reason."""
    ground, case = _open_ground(db, who, actor, now, case_id, ground_id, "ground.change")
    if scope.basis is not ground.basis:
        raise InvalidInput({"basis": N_("End this ground and invoke the other one instead.")})
    ground.recipients = list(scope.recipients)
    ground.categories = list(scope.categories)
    ground.valid_from, ground.valid_until = scope.valid_from, scope.valid_until
    _event(db, vault, case, ground.id, GroundEventKind.CHANGED, actor.person_id, now, reason)
    record(db, who, now, event_type="ground.change", action="update", outcome="allowed",
           case_id=case.id, child_id=case.child_id, object_type="ground", object_id=ground.id,
           legal_ground=ground.basis.value, data_categories=scope.categories)


def end_ground(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
               case_id: str, ground_id: str, reason: str) -> None:
    """End a ground from today on; what was read under it stays on record."""
    ground, case = _open_ground(db, who, actor, now, case_id, ground_id, "ground.end")
    reason = _reason(reason)
    ground.ended_at, ground.ended_by = now, actor.person_id
    _event(db, vault, case, ground.id, GroundEventKind.ENDED, actor.person_id, now, reason)
    record(db, who, now, event_type="ground.end", action="update", outcome="allowed",
           case_id=case.id, child_id=case.child_id, object_type="ground", object_id=ground.id,
           legal_ground=ground.basis.value)


def _reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) < REASON_MIN:
        raise InvalidInput({"reason": N_("Write down the reason (at least a sentence).")})
    if len(reason) > REASON_MAX:
        raise InvalidInput({"reason": N_("The reason is too long.")})
    require_clean_text({"reason": reason}, multiline=("reason",))
    return reason


def _open_ground(db: Session, who: Requester, actor: Actor, now: datetime, case_id: str,
                 ground_id: str, event_type: str) -> tuple[CaseGround, Case]:
    facts = _gate(db, who, actor, now, case_id, event_type)
    ground = db.get(CaseGround, ground_id) if is_uuid(ground_id) else None
    if ground is None or ground.case_id != facts.case_id or ground.ended_at is not None:
        denial = Deny(reason="no_such_ground", hide=True)
        record(db, who, now, event_type=event_type, action="update", decision=denial,
               case_id=facts.case_id, child_id=facts.child_id, object_type="ground",
               object_id=ground_id if is_uuid(ground_id) else None)
        raise AccessDenied(denial)
    return ground, db.get_one(Case, facts.case_id)


def _event(db: Session, vault: Vault, case: Case, ground_id: str, kind: GroundEventKind,
           person_id: str | None, now: datetime, reason: str | None) -> None:
    event_id = str(uuid.uuid4())
    sealed = None if reason is None else vault.seal(
        vault.key_for(db, case.title_ct), reason,
        ground_binding(case.id, "ground_event", event_id, "reason"))
    db.add(GroundEvent(id=event_id, ground_id=ground_id, case_id=case.id, kind=kind,
                       person_id=person_id, at=now, reason_ct=sealed))
    db.flush()


def _notify_dpos(db: Session, case: Case, now: datetime, public_url: str) -> None:
    """The FG of every organisation in the case; where none has its own, the portal's."""
    for email in fg_emails_for_case(db, case.id):
        enqueue(db, now, kind="ground.dpo", recipient=email, subject=DPO_SUBJECT,
                body=DPO_BODY.format(link=f"{public_url}/dpo/grounds"))


# --- the duties -----------------------------------------------------------------------


@dataclass(frozen=True)
class TaskView:
    id: str
    ground_id: str
    basis: Basis
    duty: Duty
    owner_name: str
    due_on: date
    overdue: bool
    done_at: datetime | None
    note: str | None


@dataclass(frozen=True)
class GroundView:
    id: str
    basis: Basis
    recipients: tuple[str, ...]
    categories: tuple[str, ...]
    valid_from: date
    valid_until: date | None
    invoked_at: datetime
    invoked_by_name: str
    ended_at: datetime | None
    needs_review: bool
    reviewed_at: datetime | None
    justification: str | None  # None: migrated from an older case, nothing written


@dataclass(frozen=True)
class CaseGrounds:
    case_id: str
    grounds: tuple[GroundView, ...]
    tasks: tuple[TaskView, ...]
    may_invoke: bool
    options: tuple[str, ...]  # recipients the form offers
    labels: Mapping[str, Label]
    categories: tuple[str, ...]
    today: date


def case_grounds(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                 case_id: str) -> CaseGrounds:
    """The chair's page: the grounds with their justification, and the open duties.

    Someone else who may invoke a ground sees the ones they invoked and their own
    duties. Justifications can identify the child: each one read is recorded."""
    facts = case_facts(db, case_id) if is_uuid(case_id) else None
    chair = facts is not None and decide(actor, Action.GROUND_TASKS, facts).allowed
    if not chair:
        facts = _gate(db, who, actor, now, case_id, "ground.list", access="read")
    assert facts is not None
    case = db.get_one(Case, facts.case_id)
    record(db, who, now, event_type="ground.list", action="read", outcome="allowed",
           case_id=case.id, child_id=case.child_id, object_type="case", object_id=case.id)
    key = vault.key_for(db, case.title_ct)
    query = select(CaseGround).where(CaseGround.case_id == case.id)
    task_query = select(GroundTask).where(GroundTask.case_id == case.id)
    if not chair:
        query = query.where(CaseGround.invoked_by == actor.person_id)
        task_query = task_query.where(GroundTask.owner_id == actor.person_id)
    rows = db.scalars(query.order_by(CaseGround.invoked_at.desc())).all()
    tasks = db.scalars(task_query.order_by(GroundTask.done_at.is_not(None),
                                           GroundTask.due_on)).all()
    names = dict(db.execute(select(Person.id, Person.display_name).where(Person.id.in_(
        {g.invoked_by for g in rows} | {t.owner_id for t in tasks}))).all())
    bases = {g.id: g.basis for g in rows}
    views = []
    for g in rows:
        record(db, who, now, event_type="ground.read", action="read", outcome="allowed",
               case_id=case.id, child_id=case.child_id, object_type="ground", object_id=g.id,
               legal_ground=g.basis.value)
        views.append(GroundView(
            id=g.id, basis=g.basis, recipients=tuple(g.recipients),
            categories=tuple(g.categories), valid_from=g.valid_from, valid_until=g.valid_until,
            invoked_at=g.invoked_at, invoked_by_name=names.get(g.invoked_by, ""),
            ended_at=g.ended_at, needs_review=g.needs_review, reviewed_at=g.reviewed_at,
            justification=None if g.justification_ct is None else vault.open(
                db, g.justification_ct,
                ground_binding(case.id, "ground", g.id, "justification"), key)))
    today = local_date(now)
    task_views = tuple(TaskView(
        id=t.id, ground_id=t.ground_id, basis=bases[t.ground_id], duty=t.duty,
        owner_name=names.get(t.owner_id, ""), due_on=t.due_on,
        overdue=t.done_at is None and t.due_on < today, done_at=t.done_at,
        note=None if t.note_ct is None else vault.open(
            db, t.note_ct, ground_binding(case.id, "ground_task", t.id, "note"), key))
        for t in tasks)
    may_invoke = invokers.check(db, actor, facts, Action.GROUND_INVOKE).allowed
    options = tuple(dict.fromkeys([
        *case_recipients(db, case.id),
        *default_recipients(db, case, Basis.OTS, actor.person_id),
        *(f"person:{p}" for p in sorted(facts.participants))]))
    shown = [*options, *(r for g in views for r in g.recipients)]
    return CaseGrounds(case.id, tuple(views), task_views, may_invoke, options,
                       labels_for(db, vault, shown), ordered_categories(DEFAULT_CATEGORIES),
                       today)


def complete_task(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                  case_id: str, task_id: str, note: str) -> None:
    """Mark a duty done (the chair or its owner); the note says how (who was told what)."""
    task = db.get(GroundTask, task_id) if is_uuid(task_id) else None
    owner = task is not None and task.owner_id == actor.person_id
    facts = _gate(db, who, actor, now, case_id, "ground.task",
                  Action.CASE_VIEW if owner else Action.GROUND_TASKS)
    if task is None or task.case_id != facts.case_id or task.done_at is not None:
        denial = Deny(reason="no_such_task", hide=True)
        record(db, who, now, event_type="ground.task", action="update", decision=denial,
               case_id=facts.case_id, child_id=facts.child_id, object_type="ground_task")
        raise AccessDenied(denial)
    note = note.strip()
    if not note:
        raise InvalidInput({"note": N_("Say how the duty was done.")})
    if len(note) > NOTE_MAX:
        raise InvalidInput({"note": N_("The note is too long.")})
    require_clean_text({"note": note}, multiline=("note",))
    case = db.get_one(Case, facts.case_id)
    task.note_ct = vault.seal(vault.key_for(db, case.title_ct), note,
                              ground_binding(case.id, "ground_task", task.id, "note"))
    task.done_at, task.done_by = now, actor.person_id
    db.flush()
    record(db, who, now, event_type="ground.task", action="update", outcome="allowed",
           case_id=case.id, child_id=case.child_id, object_type="ground_task",
           object_id=task.id)


# --- the DPO's queue ------------------------------------------------------------------


@dataclass(frozen=True)
class QueueEntry:
    id: str
    case_id: str
    basis: Basis
    invoked_at: datetime
    reviewed_at: datetime | None


def dpo_queue(db: Session, who: Requester, actor: Actor, now: datetime) -> list[QueueEntry]:
    """Grounds waiting for the DPO's review in the DPO's organisations' cases (content-free)."""
    decision = supervised(db, actor, decide(actor, Action.DPO_REVIEW))
    record(db, who, now, event_type="ground.queue", action="read", decision=decision)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    query = select(CaseGround).where(CaseGround.needs_review.is_(True))
    # An FG sees the cases their organisations take part in; the supervisor, all.
    cases = fg_case_ids(db, actor)
    if cases is not None:
        query = query.where(CaseGround.case_id.in_(cases))
    rows = db.scalars(query.order_by(CaseGround.reviewed_at.is_not(None),
                                     CaseGround.invoked_at.desc())).all()
    return [QueueEntry(g.id, g.case_id, g.basis, g.invoked_at, g.reviewed_at) for g in rows]


def mark_ground_reviewed(db: Session, who: Requester, actor: Actor, now: datetime,
                         ground_id: str) -> None:
    entries = {e.id: e for e in dpo_queue(db, who, actor, now)}
    ground = db.get(CaseGround, ground_id) if ground_id in entries else None
    if ground is None:
        denial = Deny(reason="no_such_ground", hide=True)
        record(db, who, now, event_type="ground.reviewed", action="update", decision=denial)
        raise AccessDenied(denial)
    if ground.reviewed_at is None:
        ground.reviewed_at, ground.reviewed_by = now, actor.person_id
        db.add(GroundEvent(ground_id=ground.id, case_id=ground.case_id,
                           kind=GroundEventKind.REVIEWED, person_id=actor.person_id, at=now))
        db.flush()
    record(db, who, now, event_type="ground.reviewed", action="update", outcome="allowed",
           case_id=ground.case_id, object_type="ground", object_id=ground.id)
