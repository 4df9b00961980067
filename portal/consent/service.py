"""Consent records: given in the portal, recorded from a signed form, withdrawn.

Every function follows the one path: load the facts, ``decide``, record the
access (allowed or denied), and only then read or write. Withdrawal never
deletes: it stamps the row, counts from the very next request (the engine
treats a consent withdrawn today as withdrawn), and leaves what was lawfully
read on record with the consent ids as its basis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from auth.config import acr_at_least
from portal.audit.service import Requester, record
from portal.cases.gate import authorize, is_uuid
from portal.cases.models import Case, CaseStatus
from portal.consent.access import ConsentFacts, local_date, may_consent
from portal.consent.custody import CustodyLine, custody_lines
from portal.consent.engine import CHILD, Consent, ConsenterStatus, check_consent
from portal.consent.facts import consent_records
from portal.consent.models import ConsenterKind, ConsentMethod, ConsentRecord
from portal.consent.status import ordered_categories
from portal.consent.summary import (
    ConsentSummary,
    Label,
    case_recipients,
    family_recipients,
    person_names,
    summarize,
)
from portal.errors import N_, AccessDenied, InvalidInput
from portal.notifications import events as notifications
from portal.people.models import Child
from portal.policy import Action, Actor, CaseFacts, ChildFacts, Deny, decide
from portal.vault.service import Vault, case_field

DEFAULT_VALIDITY = timedelta(days=365)
MAX_VALIDITY = timedelta(days=3 * 365)
# A signed form may be recorded a while after it was signed, not backdated further.
MAX_BACKDATE = timedelta(days=90)


@dataclass(frozen=True)
class ConsentView:
    id: str
    consenter: str  # person id or CHILD
    consenter_name: str
    method: ConsentMethod
    categories: tuple[str, ...]
    recipients: tuple[str, ...]
    valid_from: date
    valid_until: date | None
    given_at: datetime
    recorded_by_name: str
    state: str  # active / expired / withdrawn / not_yet_valid
    withdrawn_at: datetime | None
    withdrawal_method: ConsentMethod | None
    yours: bool  # given by the viewer (who may withdraw it in the portal)


@dataclass(frozen=True)
class ConsentForm:
    """What the give/record forms submit (not yet validated)."""

    consenter: str
    categories: tuple[str, ...]
    recipients: tuple[str, ...]
    valid_from: str
    valid_until: str
    form_seen: bool = False


@dataclass(frozen=True)
class CasePage:
    """The consent page of a case, for professionals."""

    case_id: str
    title: str
    closed: bool
    summary: ConsentSummary
    consents: tuple[ConsentView, ...]
    can_record: bool
    consenters: tuple[tuple[str, str], ...]  # (value, name) the chair may record for
    recipients: tuple[Label, ...]
    today: date
    can_break_glass: bool
    custody: tuple[CustodyLine, ...] = ()  # the child's adults, custody and its evidence
    can_record_custody: bool = False
    child_id: str | None = None

    @property
    def default_until(self) -> date:
        return self.today + DEFAULT_VALIDITY


def consent_form(form: Mapping[str, str], items: Sequence[tuple[str, str]]) -> ConsentForm:
    return ConsentForm(
        consenter=form.get("consenter", ""),
        categories=tuple(v for k, v in items if k == "category"),
        recipients=tuple(v for k, v in items if k == "recipient"),
        valid_from=form.get("valid_from", ""), valid_until=form.get("valid_until", ""),
        form_seen=form.get("form_seen") == "on")


STATE_OF = {ConsenterStatus.WITHDRAWN: "withdrawn", ConsenterStatus.EXPIRED: "expired",
            ConsenterStatus.NOT_YET_VALID: "not_yet_valid"}


def consent_views(db: Session, vault: Vault, case_id: str, on: date, viewer: str | None,
                  pupil: bool, child_id: str | None = None) -> tuple[ConsentView, ...]:
    # The records the decision read (portal.consent.facts), newest first.
    rows = sorted(sorted(consent_records(db, case_id), key=lambda r: r.id),
                  key=lambda r: r.given_at, reverse=True)
    names = person_names(db, vault,
                         [*(r.consenter_person_id for r in rows if r.consenter_person_id),
                          *(r.recorded_by for r in rows)], child_id)
    views = []
    for r in rows:
        by = CHILD if r.consenter_kind is ConsenterKind.CHILD else str(r.consenter_person_id)
        status = check_consent(_engine_consent(r, by), on, None, None, "org:any")
        yours = (by == viewer) or (by == CHILD and pupil)
        views.append(ConsentView(
            id=r.id, consenter=by, consenter_name=names.get(by, ""), method=r.method,
            categories=ordered_categories(r.categories), recipients=tuple(r.recipients),
            valid_from=r.valid_from, valid_until=r.valid_until, given_at=r.given_at,
            recorded_by_name=names.get(r.recorded_by, ""),
            state=STATE_OF.get(status, "active"), withdrawn_at=r.withdrawn_at,
            withdrawal_method=r.withdrawal_method, yours=yours))
    return tuple(views)


def _engine_consent(r: ConsentRecord, by: str) -> Consent:
    return Consent(by=by, categories=frozenset(r.categories or ["other"]),
                   recipients=frozenset({"org:any"}), valid_from=r.valid_from,
                   valid_until=r.valid_until,
                   withdrawn_on=local_date(r.withdrawn_at) if r.withdrawn_at else None)


def _consent_facts(facts: CaseFacts) -> ConsentFacts:
    if facts.consent is None:
        # An anonymous case: nobody can consent to what identifies no one.
        raise InvalidInput({"consent": N_("An anonymous case has no consent: convert it to "
                                          "a named case first.")})
    return facts.consent


# -- the professionals' consent page ---------------------------------------------

def case_page(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
              case_id: str) -> CasePage:
    facts = authorize(db, who, actor, now, Action.CONSENT_VIEW, case_id,
                      event_type="consent.view", action_code="read", vault=vault)
    consent = _consent_facts(facts)
    case = db.get_one(Case, facts.case_id)
    summary = summarize(db, vault, actor, facts, organisation_id=case.organisation_id,
                        professional=True, now=now)
    assert summary is not None  # a named case, checked above
    can_record = decide(actor, Action.CONSENT_RECORD, facts).allowed
    consenters = [(c, summary.names.get(c, "")) for c in _eligible(consent)]
    return CasePage(
        case_id=case.id, title=vault.open(db, case.title_ct, case_field(case.id, "title")),
        closed=case.status is CaseStatus.CLOSED, summary=summary,
        consents=consent_views(db, vault, case.id, consent.on, None, False, facts.child_id),
        can_record=can_record, consenters=tuple(consenters),
        recipients=tuple(summary.labels[r] for r in _recipient_options(db, facts)),
        today=consent.on, can_break_glass=decide(actor, Action.BREAK_GLASS, facts).allowed,
        custody=custody_lines(db, vault, facts.child_id) if facts.child_id else (),
        child_id=facts.child_id,
        can_record_custody=facts.child_id is not None and decide(
            actor, Action.CUSTODY_RECORD, child=ChildFacts(
                child_id=facts.child_id, school_id=db.get_one(Child, facts.child_id).school_id)
        ).allowed)


def _eligible(consent: ConsentFacts) -> list[str]:
    """Who may consent (adults with custody under 16; the child from 12)."""
    found = [a.id for a in consent.adults if may_consent(consent, a.id)]
    return found + ([CHILD] if may_consent(consent, CHILD) else [])


def _recipient_options(db: Session, facts: CaseFacts) -> list[str]:
    options = case_recipients(db, facts.case_id)
    if facts.consent is not None:
        options += family_recipients(facts.consent)
    return options


def _validate(db: Session, facts: CaseFacts, form: ConsentForm, *, consenter: str,
              portal: bool) -> tuple[tuple[str, ...], tuple[str, ...], date, date | None]:
    consent = _consent_facts(facts)
    errors: dict[str, str] = {}
    if not may_consent(consent, consenter):
        errors["consenter"] = N_("This person cannot give consent for this child.")
    categories = tuple(c for c in ordered_categories(consent.categories)
                       if c in form.categories)
    if not categories or len(categories) != len(set(form.categories)):
        errors["category"] = N_("Choose one or more kinds of information.")
    options = set(_recipient_options(db, facts))
    recipients = tuple(sorted(set(form.recipients)))
    if not recipients or not options.issuperset(recipients):
        errors["recipient"] = N_("Choose who may receive the information.")
    today = consent.on
    valid_from = today if portal else _date(form.valid_from) or today
    valid_until = _date(form.valid_until)
    if form.valid_until and valid_until is None:
        errors["valid_until"] = N_("Give a valid date.")
    elif valid_until is not None and not valid_from <= valid_until <= today + MAX_VALIDITY:
        errors["valid_until"] = N_("The end date must lie after the start and within "
                                   "three years.")
    if not portal:
        if form.valid_from and _date(form.valid_from) is None:
            errors["valid_from"] = N_("Give a valid date.")
        elif not today - MAX_BACKDATE <= valid_from <= today + MAX_VALIDITY:
            errors["valid_from"] = N_("The start date lies too far from today.")
        if not form.form_seen:
            errors["form_seen"] = N_("Confirm that you have seen the signed form.")
    if errors:
        raise InvalidInput(errors)
    return categories, recipients, valid_from, valid_until


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def _add(db: Session, facts: CaseFacts, *, consenter: str, person_id: str | None,
         method: ConsentMethod, recorded_by: str, now: datetime, acr: str | None,
         scope: tuple[tuple[str, ...], tuple[str, ...], date, date | None]) -> ConsentRecord:
    categories, recipients, valid_from, valid_until = scope
    row = ConsentRecord(
        case_id=facts.case_id, child_id=facts.child_id,
        consenter_kind=ConsenterKind.CHILD if consenter == CHILD else ConsenterKind.ADULT,
        consenter_person_id=person_id, method=method, categories=list(categories),
        recipients=list(recipients), valid_from=valid_from, valid_until=valid_until,
        given_at=now, recorded_by=recorded_by, acr=acr)
    db.add(row)
    db.flush()
    notifications.consent_changed(db, now, facts.case_id, row.id, recorded_by, withdrawn=False)
    return row


def record_signed_consent(db: Session, vault: Vault, who: Requester, actor: Actor,
                          now: datetime, case_id: str, form: ConsentForm) -> str:
    """The chair records a consent given on a signed form (demonstrable on paper)."""
    facts = authorize(db, who, actor, now, Action.CONSENT_RECORD, case_id,
                      event_type="consent.record", action_code="create", vault=vault)
    if facts.status is CaseStatus.CLOSED:
        raise InvalidInput({"consent": N_("The case is closed.")})
    consenter = form.consenter
    scope = _validate(db, facts, form, consenter=consenter, portal=False)
    pupil = facts.consent.pupil_person_id if facts.consent else None
    row = _add(db, facts, consenter=consenter,
               person_id=pupil if consenter == CHILD else consenter,
               method=ConsentMethod.SIGNED_FORM, recorded_by=actor.person_id, now=now,
               acr=None, scope=scope)
    return row.id


def record_withdrawal(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                      case_id: str, consent_id: str) -> None:
    """The chair records a withdrawal received on paper (or by phone, then confirmed)."""
    facts = authorize(db, who, actor, now, Action.CONSENT_RECORD, case_id,
                      event_type="consent.withdraw", action_code="update", vault=vault)
    if _consent_of(db, facts, consent_id) is None:
        record(db, who, now, event_type="consent.withdraw", action="update",
               decision=Deny(reason="no_such_consent"), case_id=facts.case_id,
               child_id=facts.child_id, object_type="consent")
    _withdraw(db, facts, consent_id, actor.person_id, now, ConsentMethod.SIGNED_FORM)


def _consent_of(db: Session, facts: CaseFacts, consent_id: str) -> ConsentRecord | None:
    """The consent ``consent_id`` of this case, or None (the URL's id is never trusted)."""
    row = db.get(ConsentRecord, consent_id) if is_uuid(consent_id) else None
    return row if row is not None and row.case_id == facts.case_id else None


def _known_case(db: Session, case_id: str) -> str | None:
    """``case_id`` when it names an existing case: only then may a record carry it."""
    return case_id if is_uuid(case_id) and db.get(Case, case_id) is not None else None


def _withdraw(db: Session, facts: CaseFacts, consent_id: str, by: str, now: datetime,
              method: ConsentMethod) -> ConsentRecord:
    row = _consent_of(db, facts, consent_id)
    if row is None:
        raise InvalidInput({"consent": N_("No such consent in this case.")})
    if row.withdrawn_at is None:
        row.withdrawn_at = now
        row.withdrawn_by = by
        row.withdrawal_method = method
        db.flush()
        notifications.consent_changed(db, now, facts.case_id, row.id, by, withdrawn=True)
    return row


# -- the family: giving and withdrawing in the portal ------------------------------

def consenter_for(facts: CaseFacts, actor: Actor) -> str:
    """The actor as a consenter: CHILD for the pupil's own account, else their id."""
    consent = facts.consent
    return CHILD if consent is not None and actor.person_id == consent.pupil_person_id \
        else actor.person_id


def give_consent(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                 case_id: str, form: ConsentForm, *, acr: str | None,
                 required_acr: str | None) -> str:
    """A parent with custody (or the pupil of 16+) consents, logged in with enough assurance."""
    if not acr_at_least(acr, required_acr):
        # Refused before anything is decided on the case: the login is too weak
        # to make the consent demonstrable. The attempt is on record.
        known = _known_case(db, case_id)
        decision = Deny(reason="insufficient_assurance") if known else \
            Deny(reason="no_such_case", hide=True)
        record(db, who, now, event_type="consent.give", action="create", decision=decision,
               case_id=known, object_type="case", object_id=known)
        raise AccessDenied(decision)
    facts = authorize(db, who, actor, now, Action.CONSENT_GIVE, case_id,
                      event_type="consent.give", action_code="create", vault=vault)
    consenter = consenter_for(facts, actor)
    scope = _validate(db, facts, form, consenter=consenter, portal=True)
    row = _add(db, facts, consenter=consenter, person_id=actor.person_id,
               method=ConsentMethod.PORTAL, recorded_by=actor.person_id, now=now, acr=acr,
               scope=scope)
    return row.id


def withdraw_consent(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                     case_id: str, consent_id: str) -> None:
    """Withdraw one's own consent: counts from the very next request.

    No assurance level is asked: withdrawing only ever narrows access.
    """
    facts = authorize(db, who, actor, now, Action.CONSENT_WITHDRAW, case_id,
                      event_type="consent.withdraw", action_code="update", vault=vault)
    row = _consent_of(db, facts, consent_id)
    mine = row is not None and (
        (row.consenter_kind is ConsenterKind.ADULT and row.consenter_person_id == actor.person_id)
        or (row.consenter_kind is ConsenterKind.CHILD and consenter_for(facts, actor) == CHILD))
    if not mine:
        decision = Deny(reason="not_your_consent")
        record(db, who, now, event_type="consent.withdraw", action="update", decision=decision,
               case_id=facts.case_id, child_id=facts.child_id, object_type="consent",
               object_id=row.id if row is not None else None)
        raise AccessDenied(decision)
    _withdraw(db, facts, consent_id, actor.person_id, now, ConsentMethod.PORTAL)
