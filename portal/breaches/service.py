"""Reporting a (possible) data breach, and the FG's register: assessment, decisions, deadline.

Any professional reports what happened, when it was discovered and how; the
report lands in the register of the reporter's organisation and its FG gets a
content-free mail. The FG of that organisation (``portal.dpo.scope`` decides
who that is) reads it, records the assessment and, within 72 hours of the
discovery (GDPR art. 33), the decision whether to notify the Autoriteit
Persoonsgegevens and whether to inform the families, each with reasons.
Every read and write is an access record; the free text is sealed with the
breach's own data key and opened only after the record is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from auth.config import acr_at_least
from crypto import Binding
from portal.audit.service import Requester, record
from portal.audit.views import StepUpRequired
from portal.breaches.models import (
    ApDecision,
    Breach,
    BreachCase,
    BreachScope,
    FamilyDecision,
)
from portal.cases.gate import is_uuid
from portal.dpo.scope import case_organisations, fg_emails, fg_organisations
from portal.errors import N_, AccessDenied, InvalidInput
from portal.localtime import LOCAL_TIME
from portal.mail.service import enqueue
from portal.people.models import Membership, Organisation, Person, PersonKind
from portal.policy import Action, Actor, Decision, Deny, decide
from portal.vault.models import DataKey
from portal.vault.service import Vault
from portal.web.text import check_text

# GDPR art. 33(1): notify the supervisory authority within 72 hours of becoming aware.
DEADLINE = timedelta(hours=72)
DUE_SOON = timedelta(hours=24)
TEXT_MIN = 10
TEXT_MAX = 4000
# Content-free: nothing of what happened, no child, no case. Dutch, as the FG reads it.
REPORT_SUBJECT = "MDO-portaal: mogelijk datalek gemeld"
REPORT_BODY = ("In het MDO-portaal is een (mogelijk) datalek gemeld voor uw organisatie.\n"
               "Binnen 72 uur na de ontdekking moet besloten zijn over een melding aan de "
               "Autoriteit Persoonsgegevens.\n\nBekijk het register in het portaal: {link}\n")


def breach_field(breach_id: str, name: str) -> Binding:
    return Binding(purpose="breach-field", case_id="", object_type="breach",
                   object_id=breach_id, version=1, field=name)


def deadline_of(breach: Breach) -> datetime:
    return breach.discovered_at + DEADLINE


def decisions_open(breach: Breach) -> bool:
    return breach.ap_decision is None or breach.family_decision is None


def overdue(breach: Breach, now: datetime) -> bool:
    return decisions_open(breach) and now > deadline_of(breach)


def due_soon(breach: Breach, now: datetime) -> bool:
    return decisions_open(breach) and not overdue(breach, now) \
        and deadline_of(breach) - now <= DUE_SOON


# ---------------------------------------------------------------- reporting

@dataclass(frozen=True)
class NewReport:
    organisation_id: str
    discovered_at: datetime
    what: str
    how: str


def reporter_organisations(db: Session, actor: Actor) -> list[tuple[str, str]]:
    """The organisations the reporter can report for: their own, by name."""
    return [(o.id, o.name) for o in db.scalars(
        select(Organisation).where(Organisation.id.in_(actor.organisation_ids))
        .order_by(Organisation.name))]


def gate_report(db: Session, who: Requester, actor: Actor, now: datetime,
                action: str = "read") -> None:
    decision = decide(actor, Action.BREACH_REPORT)
    if isinstance(decision, Deny):
        record(db, who, now, event_type="breach.report", action=action, decision=decision)
        raise AccessDenied(decision)


def parse_report(form: Mapping[str, str], organisations: list[tuple[str, str]],
                 now: datetime) -> NewReport:
    errors: dict[str, str] = {}
    what = form.get("what", "").strip()
    how = form.get("how", "").strip()
    check_text(errors, {"what": what, "how": how}, multiline=("what", "how"))
    if not TEXT_MIN <= len(what) <= TEXT_MAX:
        errors.setdefault("what", N_("Describe what happened in at least one sentence."))
    if not how or len(how) > TEXT_MAX:
        errors.setdefault("how", N_("Say how the breach was discovered."))
    discovered_at = parse_local(form.get("date", ""), form.get("time", ""))
    if discovered_at is None:
        errors["date"] = N_("Give a date and a time.")
    elif discovered_at > now:
        errors["date"] = N_("The discovery cannot lie in the future.")
    ids = [org_id for org_id, _ in organisations]
    organisation = form.get("organisation") or (ids[0] if len(ids) == 1 else "")
    if organisation not in ids:
        errors["organisation"] = N_("Choose the organisation the breach concerns.")
    if errors:
        raise InvalidInput(errors)
    assert discovered_at is not None
    return NewReport(organisation, discovered_at, what, how)


def parse_local(day: str, clock: str) -> datetime | None:
    """A date and time entered in Dutch time, as UTC (None when unreadable)."""
    try:
        local = datetime.fromisoformat(f"{day}T{clock}")
    except ValueError:
        return None
    if local.tzinfo is not None:
        return None
    return local.replace(tzinfo=LOCAL_TIME).astimezone(UTC)


def report(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
           form: Mapping[str, str], public_url: str) -> str:
    """Record a reported breach in its organisation's register; returns its id."""
    gate_report(db, who, actor, now, action="create")
    new = parse_report(form, reporter_organisations(db, actor), now)
    breach = Breach(organisation_id=new.organisation_id, reported_by=actor.person_id,
                    reported_at=now, discovered_at=new.discovered_at)
    db.add(breach)
    db.flush()
    key = vault.new_key(db, "breach", breach.id, now)
    breach.what_ct = vault.seal(key, new.what, breach_field(breach.id, "what"))
    breach.how_ct = vault.seal(key, new.how, breach_field(breach.id, "how"))
    record(db, who, now, event_type="breach.report", action="create",
           decision=decide(actor, Action.BREACH_REPORT), object_type="breach",
           object_id=breach.id)
    notify_fgs(db, now, frozenset({new.organisation_id}), REPORT_SUBJECT,
               REPORT_BODY.format(link=f"{public_url}/dpo/breaches"), kind="breach.report")
    return breach.id


def notify_fgs(db: Session, now: datetime, organisations: frozenset[str], subject: str,
               body: str, *, kind: str) -> list[str]:
    """One content-free mail to each FG of these organisations (each address once)."""
    emails = sorted({e for org in organisations for e in fg_emails(db, frozenset({org}))})
    for email in emails:
        enqueue(db, now, kind=kind, recipient=email, subject=subject, body=body)
    return emails


# ---------------------------------------------------------------- the FG's gate

@dataclass(frozen=True)
class FgLogin:
    """The FG's login strength and what the register requires (as the access log does)."""

    acr: str | None
    required: str


def fg_gate(db: Session, who: Requester, actor: Actor, now: datetime, login: FgLogin, *,
            event_type: str, action: str, breach_id: str | None = None
            ) -> tuple[Decision, Breach | None]:
    """DPO_REVIEW, a strong enough login, and (for one breach) a register the FG keeps.

    A breach outside the FG's organisations answers as one that does not exist."""
    decision = decide(actor, Action.DPO_REVIEW)
    if decision.allowed and not acr_at_least(login.acr, login.required):
        decision = Deny(reason="step_up_required")
    breach = None
    if decision.allowed and breach_id is not None:
        breach = db.get(Breach, breach_id) if is_uuid(breach_id) else None
        if breach is None or breach.organisation_id not in fg_organisations(db, actor):
            breach, decision = None, Deny(reason="no_such_breach", hide=True)
    if isinstance(decision, Deny):
        record(db, who, now, event_type=event_type, action=action, decision=decision,
               object_type="breach" if breach_id is not None else None,
               object_id=breach_id if breach_id is not None and is_uuid(breach_id) else None)
        if decision.reason == "step_up_required":
            raise StepUpRequired(decision, login.required)
        raise AccessDenied(decision)
    return decision, breach


# ---------------------------------------------------------------- the register

@dataclass(frozen=True)
class BreachRow:
    id: str
    organisation: str
    reported_at: datetime
    discovered_at: datetime
    deadline: datetime
    overdue: bool
    due_soon: bool
    assessed: bool
    ap_decision: str | None
    family_decision: str | None
    origin_organisation: str | None  # a partner's report that reached this register
    children: int
    cases: int


def register(db: Session, who: Requester, actor: Actor, now: datetime,
             login: FgLogin) -> list[BreachRow]:
    """The FG's register, open decisions first: dates, states and counts, no free text."""
    decision, _ = fg_gate(db, who, actor, now, login, event_type="breach.register",
                          action="read")
    record(db, who, now, event_type="breach.register", action="read", decision=decision)
    return rows(db, actor, now)


def rows(db: Session, actor: Actor, now: datetime) -> list[BreachRow]:
    """The FG's register, late and undecided breaches first, newest discovery first."""
    found = rows_of(db, list(db.scalars(select(Breach).where(
        Breach.organisation_id.in_(fg_organisations(db, actor)))
        .order_by(Breach.discovered_at.desc()))), now)
    return sorted(found, key=lambda r: (not r.overdue, not (r.ap_decision is None
                                                            or r.family_decision is None)))


def rows_of(db: Session, breaches: list[Breach], now: datetime) -> list[BreachRow]:
    names = _organisation_names(db)
    origins = {b.id: b.organisation_id for b in db.scalars(select(Breach).where(
        Breach.id.in_([b.origin_id for b in breaches if b.origin_id])))}
    counts = _case_counts(db, [b.id for b in breaches])
    return [BreachRow(
        id=b.id, organisation=names.get(b.organisation_id, ""), reported_at=b.reported_at,
        discovered_at=b.discovered_at, deadline=deadline_of(b), overdue=overdue(b, now),
        due_soon=due_soon(b, now), assessed=b.assessed_at is not None,
        ap_decision=b.ap_decision, family_decision=b.family_decision,
        origin_organisation=names.get(origins.get(b.origin_id or "", ""), None),
        children=counts.get(b.id, (0, 0))[0], cases=counts.get(b.id, (0, 0))[1])
        for b in breaches]


@dataclass(frozen=True)
class Deadlines:
    """For the FG's start page: how many breaches wait for a decision, how many are late."""

    open: int
    overdue: int
    next_deadline: datetime | None


def deadlines(db: Session, actor: Actor, now: datetime) -> Deadlines:
    waiting = list(db.scalars(select(Breach).where(
        Breach.organisation_id.in_(fg_organisations(db, actor)),
        or_(Breach.ap_decision.is_(None), Breach.family_decision.is_(None)))))
    upcoming = sorted(deadline_of(b) for b in waiting if not overdue(b, now))
    return Deadlines(open=len(waiting), overdue=sum(overdue(b, now) for b in waiting),
                     next_deadline=upcoming[0] if upcoming else None)


def _organisation_names(db: Session) -> dict[str, str]:
    return {str(i): str(n) for i, n in db.execute(select(Organisation.id, Organisation.name))}


def _case_counts(db: Session, breach_ids: list[str]) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[set[str], set[str]]] = {}
    for breach_id, case_id, child_id in db.execute(
            select(BreachCase.breach_id, BreachCase.case_id, BreachCase.child_id)
            .where(BreachCase.breach_id.in_(breach_ids))):
        children, cases = found.setdefault(breach_id, (set(), set()))
        cases.add(case_id)
        if child_id:
            children.add(child_id)
    return {b: (len(ch), len(ca)) for b, (ch, ca) in found.items()}


# ---------------------------------------------------------------- one breach

@dataclass(frozen=True)
class ScopeView:
    kind: str
    person_name: str | None
    period_start: datetime
    period_end: datetime
    defined_at: datetime
    records: int
    children: int
    cases: int
    organisations: int


@dataclass(frozen=True)
class BreachView:
    row: BreachRow
    reporter: str | None
    what: str | None  # None: a partner's entry (the reporter's text stays with them)
    how: str | None
    assessment: str | None
    assessed_at: datetime | None
    ap_reasons: str | None
    ap_decided_at: datetime | None
    family_reasons: str | None
    family_decided_at: datetime | None
    scopes: list[ScopeView]
    organisations: list[str]  # every organisation the scope reached
    informed: list[tuple[str, datetime]]  # partner organisations told, and when
    people: list[tuple[str, str]]  # whom the FG may name in a scope (id, name)


def show(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
         breach_id: str, login: FgLogin) -> BreachView:
    decision, breach = fg_gate(db, who, actor, now, login, event_type="breach.view",
                               action="read", breach_id=breach_id)
    assert breach is not None
    record(db, who, now, event_type="breach.view", action="read", decision=decision,
           object_type="breach", object_id=breach.id)
    return view(db, vault, actor, now, breach)


def view(db: Session, vault: Vault, actor: Actor, now: datetime, breach: Breach) -> BreachView:
    """Call only after the read is recorded: this opens the sealed text."""
    row = rows_of(db, [breach], now)[0]
    names = _organisation_names(db)
    stored_scopes = list(db.scalars(select(BreachScope).where(BreachScope.breach_id == breach.id)
                                    .order_by(BreachScope.defined_at)))
    wanted = {breach.reported_by, *(s.person_id for s in stored_scopes)} - {None}
    person_names = {str(i): str(n) for i, n in db.execute(
        select(Person.id, Person.display_name).where(Person.id.in_(wanted)))}

    def opened(blob: bytes | None, name: str) -> str | None:
        return vault.open(db, blob, breach_field(breach.id, name)) if blob else None

    scopes = [ScopeView(kind=s.kind, person_name=person_names.get(s.person_id or ""),
                        period_start=s.period_start, period_end=s.period_end,
                        defined_at=s.defined_at, records=s.records, children=s.children,
                        cases=s.cases, organisations=s.organisations)
              for s in stored_scopes]
    partners = list(db.scalars(select(Breach).where(Breach.origin_id == breach.id)
                               .order_by(Breach.reported_at)))
    reached = reached_organisations(db, breach.id)
    return BreachView(
        row=row, reporter=person_names.get(breach.reported_by or ""),
        what=opened(breach.what_ct, "what"), how=opened(breach.how_ct, "how"),
        assessment=opened(breach.assessment_ct, "assessment"), assessed_at=breach.assessed_at,
        ap_reasons=opened(breach.ap_reasons_ct, "ap_reasons"),
        ap_decided_at=breach.ap_decided_at,
        family_reasons=opened(breach.family_reasons_ct, "family_reasons"),
        family_decided_at=breach.family_decided_at, scopes=scopes,
        organisations=sorted(names.get(o, "") for o in reached),
        informed=[(names.get(p.organisation_id, ""), p.reported_at) for p in partners],
        people=people_in_scope(db, actor))


def _sealed(db: Session, vault: Vault, now: datetime, breach: Breach, name: str,
            text: str) -> bytes:
    """Seal with the breach's key (a partner's entry gets one with its first text)."""
    key_id = db.scalar(select(DataKey.id).where(DataKey.owner_type == "breach",
                                                DataKey.owner_id == breach.id).limit(1))
    key = vault.key_by_id(db, key_id, ("breach", breach.id)) if key_id \
        else vault.new_key(db, "breach", breach.id, now)
    return vault.seal(key, text, breach_field(breach.id, name))


def _required_text(errors: dict[str, str], name: str, value: str, message: str) -> None:
    check_text(errors, {name: value}, multiline=(name,))
    if not TEXT_MIN <= len(value) <= TEXT_MAX:
        errors.setdefault(name, message)


def assess(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
           breach_id: str, login: FgLogin, form: Mapping[str, str]) -> None:
    decision, breach = fg_gate(db, who, actor, now, login, event_type="breach.assess",
                               action="update", breach_id=breach_id)
    assert breach is not None
    text = form.get("assessment", "").strip()
    errors: dict[str, str] = {}
    _required_text(errors, "assessment", text,
                   N_("Write down the assessment in at least one sentence."))
    if errors:
        raise InvalidInput(errors)
    breach.assessment_ct = _sealed(db, vault, now, breach, "assessment", text)
    breach.assessed_at, breach.assessed_by = now, actor.person_id
    record(db, who, now, event_type="breach.assess", action="update", decision=decision,
           object_type="breach", object_id=breach.id)


def record_decision(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                    breach_id: str, login: FgLogin, form: Mapping[str, str]) -> None:
    """The decision to notify the AP, or to inform the families, with its reasons."""
    decision, breach = fg_gate(db, who, actor, now, login, event_type="breach.decide",
                               action="update", breach_id=breach_id)
    assert breach is not None
    about, choice = form.get("about", ""), form.get("decision", "")
    reasons = form.get("reasons", "").strip()
    errors: dict[str, str] = {}
    choices = {"ap": {d.value for d in ApDecision}, "family": {d.value for d in FamilyDecision}}
    if choice not in choices.get(about, set()):
        errors[f"{about}-decision" if about in choices else "decision"] = \
            N_("Choose a decision.")
    if about in choices:
        _required_text(errors, f"{about}-reasons", reasons,
                       N_("Give the reasons for the decision in at least one sentence."))
    if errors:
        raise InvalidInput(errors)
    sealed = _sealed(db, vault, now, breach, f"{about}_reasons", reasons)
    if about == "ap":
        breach.ap_decision, breach.ap_reasons_ct = choice, sealed
        breach.ap_decided_at, breach.ap_decided_by = now, actor.person_id
    else:
        breach.family_decision, breach.family_reasons_ct = choice, sealed
        breach.family_decided_at, breach.family_decided_by = now, actor.person_id
    record(db, who, now, event_type="breach.decide", action="update", decision=decision,
           object_type="breach", object_id=breach.id, query=f"{about}={choice}")


def people_in_scope(db: Session, actor: Actor) -> list[tuple[str, str]]:
    """The professionals the FG oversees (their organisations' people), by name."""
    return [(str(i), str(n)) for i, n in db.execute(
        select(Person.id, Person.display_name).join(Membership, Membership.person_id == Person.id)
        .where(Membership.organisation_id.in_(fg_organisations(db, actor)),
               Person.kind == PersonKind.PROFESSIONAL)
        .distinct().order_by(Person.display_name))]


def reached_organisations(db: Session, breach_id: str) -> frozenset[str]:
    reached: set[str] = set()
    for case_id in db.scalars(select(BreachCase.case_id).where(BreachCase.breach_id == breach_id)):
        reached |= case_organisations(db, case_id)
    return frozenset(reached)
