"""Consent engine for MDO case consultations: pure rules, no database, no I/O.

``decide(ConsentCase) -> ConsentDecision``. The rules follow the NJi leaflet "Wat
professionals moeten weten over privacy bij samenwerking onderwijs en jeugdhulp";
the tables live in :mod:`portal.consent.rules`, the dataclasses and the age and
custody facts in :mod:`portal.consent.model`. Choices the leaflet leaves open:

* Age is counted on the request date. A child born on 29 February turns a year
  older on 1 March in a non-leap year. (In 1904-2096 the 12th and 16th birthdays
  of such a child fall in leap years; the rule shows at other ages and in 2100.)
  Consents that sufficed the day before the 12th/16th birthday stop sufficing on it
  when the required set changes; ``next_consent_change`` is the next 12th/16th
  birthday strictly after the date (returned in every setting).
* Custody: an explicit ``custody`` flag overrides the facts; a court decision
  (``court_custody``) overrides the relationship default (married, registered
  partnership, divorced: both parents; unmarried: the mother, the father only with
  ``custody_applied``; single: as registered, so ``court_custody`` is required).
  Guardian: always custody; foster parent and youth protector (OTS): never. An
  explicit flag contradicting that is rejected (register a voogd as ``guardian``).
* ``missing`` lists required consenters with no *currently valid* consent for this
  case at all: none given, not yet valid, expired, withdrawn (effective on
  ``withdrawn_on`` itself, never retroactive), or given for another purpose (a
  purpose is compared only when both the consent and the case have one).
  ``scope_mismatch`` lists required consenters whose currently valid consent(s) do
  not cover the requested category or recipient (exact string match). A consenter
  is in at most one list; ``consenter_status`` gives the cause per consenter.
* ``one_custodian`` (organisation option) applies to school-only cases under 16
  only; ``required_consenters`` still lists every adult with custody, one counting
  consent suffices, and ``rule_used`` says which rule decided.
* ``child_view_recorded`` is true when the child's view is part of the decision,
  i.e. from the 12th birthday: advisory (shown, no veto) in a school-only case
  aged 12-15, a co-consent in youth care aged 12-15, the sole consent from 16.
  ``child_view_given``: the child's own currently valid consent covers the request.
* A foster parent's information right is ``consented`` when the required
  consenters (under the rule used) consented to recipient ``adult:<id>``.
* Scoped legal grounds (``grounds``): a ground other than consent is a disclosure
  basis with a scope (recipients, categories, from/until, an end). A request inside
  a ground's scope is decided as under that ground (below) and ``grounds_used``
  names it; outside every scope the consent rules apply as usual, so a ground never
  allows more than consent outside its scope. An OTS ground counts only while a
  youth protector (OTS) is on the case. ``basis`` other than consent is the older
  unscoped form, meaning "this very request is made on that ground".
* Legal grounds: ``complete`` and ``allowed`` are true, nothing is required, and
  ``duty_towards`` names whom to inform or ask. Following the leaflet ("In alle
  gevallen moeten hulpverleners wel proberen toestemming te krijgen. Anderen moeten
  wel informeren.") the meldrecht grounds and OTS give care providers (youth-care
  setting) the duty to try to obtain consent and others (school) the duty to
  inform. ``ots`` applies only when a youth protector (OTS) is on the case;
  otherwise the case is decided on consent and a note says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from portal.consent.model import (
    Adult,
    Child,
    Consent,
    ConsentCase,
    ConsentDecision,
    CustodyFacts,
    Request,
    ScopedGround,
    age_band,
    age_on,
    birthday_in_year,
    consent_warning,
    custody_from_facts,
    next_consent_change,
    resolve_custody,
)
from portal.consent.rules import (
    CHILD,
    CONSENT_MATRIX,
    DEFAULT_CATEGORIES,
    DUTY_TEXT,
    LEGAL_GROUNDS,
    RELATION_RULES,
    SCOPE_STATUSES,
    STATUS_RANK,
    STATUS_TEXT,
    AgeBand,
    Basis,
    ConsenterStatus,
    ConsentInputError,
    ConsentRequirement,
    CustodyEvidence,
    Duty,
    InformationRight,
    OrganisationRule,
    ReasonCode,
    Relation,
    Relationship,
    RuleUsed,
    Setting,
)

__all__ = [
    "CHILD",
    "DEFAULT_CATEGORIES",
    "Adult",
    "AgeBand",
    "Basis",
    "Child",
    "Consent",
    "ConsentCase",
    "ConsentDecision",
    "ConsentInputError",
    "ConsenterStatus",
    "CustodyEvidence",
    "CustodyFacts",
    "Duty",
    "InformationRight",
    "OrganisationRule",
    "ReasonCode",
    "Relation",
    "Relationship",
    "Request",
    "RuleUsed",
    "ScopedGround",
    "Setting",
    "age_band",
    "age_on",
    "birthday_in_year",
    "check_consent",
    "consent_warning",
    "custody_from_facts",
    "decide",
    "next_consent_change",
    "resolve_custody",
]

# --- consents ---------------------------------------------------------------------


def check_consent(
    consent: Consent, on: date, case_purpose: str | None, category: str | None, recipient: str
) -> ConsenterStatus:
    """Why ``consent`` does (OK) or does not count on ``on``; category None = any."""
    if consent.withdrawn_on is not None and consent.withdrawn_on <= on:
        return ConsenterStatus.WITHDRAWN
    if on < consent.valid_from:
        return ConsenterStatus.NOT_YET_VALID
    if consent.valid_until is not None and on > consent.valid_until:
        return ConsenterStatus.EXPIRED
    if None not in (consent.purpose, case_purpose) and consent.purpose != case_purpose:
        return ConsenterStatus.PURPOSE_MISMATCH
    if category is not None and category not in consent.categories:
        return ConsenterStatus.CATEGORY_MISMATCH
    if recipient not in consent.recipients:
        return ConsenterStatus.RECIPIENT_MISMATCH
    return ConsenterStatus.OK


@dataclass(frozen=True)
class _Evaluation:
    status: Mapping[str, ConsenterStatus]
    used: tuple[str, ...]
    met: bool


def _rule(req: ConsentRequirement, configured: OrganisationRule) -> RuleUsed:
    if not req.custodians:
        return RuleUsed.YOUNG_PERSON
    if configured is OrganisationRule.ONE_CUSTODIAN and req.one_custodian_allowed:
        return RuleUsed.ONE_CUSTODIAN
    return RuleUsed.EVERY_CUSTODIAN


def _evaluate(
    case: ConsentCase,
    consenters: tuple[str, ...],
    custodians: tuple[str, ...],
    req: ConsentRequirement,
    rule: RuleUsed,
    category: str | None,
    recipient: str,
) -> _Evaluation:
    status = dict.fromkeys(consenters, ConsenterStatus.NO_CONSENT)
    used: list[str] = []
    for index, consent in enumerate(case.consents):
        if consent.by not in status:
            continue
        result = check_consent(consent, case.on, case.case_purpose, category, recipient)
        if STATUS_RANK[result] < STATUS_RANK[status[consent.by]]:
            status[consent.by] = result
        if result is ConsenterStatus.OK:
            used.append(consent.id or f"consents[{index}]")
    ok = {c for c, s in status.items() if s is ConsenterStatus.OK}
    if not req.custodians:
        custodians_met = True
    elif rule is RuleUsed.ONE_CUSTODIAN:
        custodians_met = bool(ok.intersection(custodians))
    else:
        custodians_met = bool(custodians) and ok.issuperset(custodians)
    met = custodians_met and (not req.child or CHILD in ok)
    return _Evaluation(status, tuple(used), met)


def _information_rights(
    case: ConsentCase, custody: Mapping[str, bool], consented: Callable[[str], bool]
) -> dict[str, InformationRight]:
    rights: dict[str, InformationRight] = {}
    for adult in case.adults:
        if custody[adult.id]:
            continue
        rule = RELATION_RULES[adult.relation]
        by_consent = rule.info_by_consent and consented(f"adult:{adult.id}")
        rights[adult.id] = InformationRight.CONSENTED if by_consent else rule.info_without_custody
    return rights


# --- decision ---------------------------------------------------------------------


def _who(consenter: str) -> str:
    return "the child" if consenter == CHILD else consenter


def _consent_reason(
    case: ConsentCase,
    age: int,
    rule: RuleUsed,
    code: ReasonCode,
    ev: _Evaluation,
    missing: tuple[str, ...],
    scope: tuple[str, ...],
) -> str:
    request = case.request
    context = f"rule {rule.value}, age {age}, {case.setting.value} setting"
    if code is ReasonCode.CONSENT_COMPLETE:
        who = ", ".join(_who(c) for c, s in ev.status.items() if s is ConsenterStatus.OK)
        return (
            f"Allowed on consent ({context}): consent of {who} covers category "
            f"{request.category!r} for recipient {request.recipient!r}."
        )
    parts = [f"Not allowed: consent incomplete ({context})."]
    if code is ReasonCode.NO_CUSTODIAN:
        parts.append(
            "No adult with custody is known for this child under 16; a parent with "
            "custody or a guardian (voogd) must consent."
        )
    elif rule is RuleUsed.ONE_CUSTODIAN:
        parts.append("One adult with custody suffices, but none has a consent covering it.")

    def detail(c: str) -> str:
        text = STATUS_TEXT[ev.status[c]].format(
            category=request.category, recipient=request.recipient
        )
        return f"{_who(c)} ({text})"

    if missing:
        parts.append("No valid consent from: " + ", ".join(map(detail, missing)) + ".")
    if scope:
        parts.append("Consent does not cover this request: " + ", ".join(map(detail, scope)) + ".")
    return " ".join(parts)


def _consent_code(
    req: ConsentRequirement,
    custodians: tuple[str, ...],
    met: bool,
    missing: tuple[str, ...],
    scope: tuple[str, ...],
) -> ReasonCode:
    if met:
        return ReasonCode.CONSENT_COMPLETE
    if req.custodians and not custodians:
        return ReasonCode.NO_CUSTODIAN
    if missing and scope:
        return ReasonCode.CONSENT_MISSING_AND_SCOPE_MISMATCH
    return ReasonCode.CONSENT_SCOPE_MISMATCH if scope else ReasonCode.CONSENT_MISSING


@dataclass(frozen=True)
class _Outcome:
    consent_required: bool
    required: tuple[str, ...]
    status: Mapping[str, ConsenterStatus]
    missing: tuple[str, ...]
    scope: tuple[str, ...]
    allowed: bool
    reason: str
    code: ReasonCode
    rule_used: str
    legal_ground: Basis | None
    duty: Duty | None
    towards: tuple[str, ...]
    used: tuple[str, ...]


def _ground_outcome(
    case: ConsentCase, basis: Basis, consenters: tuple[str, ...], used: tuple[str, ...]
) -> _Outcome:
    ground = LEGAL_GROUNDS[basis]
    duty = ground.duty_school if case.setting is Setting.SCHOOL else ground.duty_youth_care
    scope = " within its scope" if used else ""
    reason = (
        f"Allowed without consent on legal ground {basis.value!r}{scope} ({ground.description})."
    )
    if duty is not None:
        reason += f" Duty: {DUTY_TEXT[duty]}"
    towards = () if duty in (None, Duty.DOCUMENT_AND_NOTIFY_DPO) else consenters
    return _Outcome(
        False,
        (),
        {},
        (),
        (),
        True,
        reason,
        ReasonCode.LEGAL_GROUND,
        f"legal_ground:{basis.value}",
        basis,
        duty,
        towards,
        used,
    )


def _consent_outcome(
    case: ConsentCase,
    age: int,
    req: ConsentRequirement,
    rule: RuleUsed,
    consenters: tuple[str, ...],
    custodians: tuple[str, ...],
    ev: _Evaluation,
) -> _Outcome:
    unmet = () if ev.met else tuple(c for c in consenters if ev.status[c] is not ConsenterStatus.OK)
    missing = tuple(c for c in unmet if ev.status[c] not in SCOPE_STATUSES)
    scope = tuple(c for c in unmet if ev.status[c] in SCOPE_STATUSES)
    code = _consent_code(req, custodians, ev.met, missing, scope)
    reason = _consent_reason(case, age, rule, code, ev, missing, scope)
    return _Outcome(
        True,
        consenters,
        ev.status,
        missing,
        scope,
        ev.met,
        reason,
        code,
        rule.value,
        None,
        None,
        (),
        ev.used if ev.met else (),
    )


def _notes(case: ConsentCase, req: ConsentRequirement, ground_ignored: bool) -> tuple[str, ...]:
    notes: list[str] = []
    if ground_ignored:
        notes.append(
            f"Basis {case.basis.value!r} does not apply: no youth protector under OTS "
            "is registered on the case, so consent is required."
        )
    elif case.basis in LEGAL_GROUNDS:
        return ()
    if (
        case.organisation_rule is OrganisationRule.ONE_CUSTODIAN
        and req.custodians
        and not req.one_custodian_allowed
    ):
        notes.append(
            "Organisation rule 'one_custodian' applies to school-only cases only; "
            "in this youth-care case every adult with custody must consent."
        )
    if req.child_view and not req.child:
        notes.append("The child's view is recorded and shown, but it is not a veto.")
    return tuple(notes)


def _scoped_ground(case: ConsentCase, has_protector: bool) -> ScopedGround | None:
    """The first scoped ground whose scope covers the request; consent rules otherwise."""
    request = case.request
    for index, g in enumerate(case.grounds):
        if LEGAL_GROUNDS[g.basis].needs_youth_protector and not has_protector:
            continue
        if g.covers(case.on, request.category, request.recipient):
            return g if g.id else replace(g, id=f"grounds[{index}]")
    return None


def decide(case: ConsentCase) -> ConsentDecision:
    """Decide whether ``case.request`` may be shared on ``case.on``."""
    age = age_on(case.child.birthdate, case.on)
    req = CONSENT_MATRIX[(age_band(age), case.setting)]
    custody = {a.id: resolve_custody(a) for a in case.adults}
    custodians = tuple(sorted(i for i, has in custody.items() if has))
    rule = _rule(req, case.organisation_rule)
    consenters = (custodians if req.custodians else ()) + ((CHILD,) if req.child else ())

    def evaluate(category: str | None, recipient: str) -> _Evaluation:
        return _evaluate(case, consenters, custodians, req, rule, category, recipient)

    request = case.request
    ev = evaluate(request.category, request.recipient)
    has_protector = any(a.relation is Relation.YOUTH_PROTECTOR_OTS for a in case.adults)
    ground = LEGAL_GROUNDS.get(case.basis)
    ground_ignored = ground is not None and ground.needs_youth_protector and not has_protector
    scoped = _scoped_ground(case, has_protector)
    if ground is not None and not ground_ignored:
        out = _ground_outcome(case, case.basis, consenters, ())
    elif scoped is not None and ground is None:
        out = _ground_outcome(case, scoped.basis, consenters, (scoped.id or "grounds[0]",))
    else:
        out = _consent_outcome(case, age, req, rule, consenters, custodians, ev)
    if ground_ignored:
        out = replace(out, reason=f"{_notes(case, req, True)[0]} {out.reason}")
    child_view_given = req.child_view and any(
        c.by == CHILD
        and check_consent(c, case.on, case.case_purpose, request.category, request.recipient)
        is ConsenterStatus.OK
        for c in case.consents
    )
    return ConsentDecision(
        on=case.on,
        age=age,
        setting=case.setting,
        basis=case.basis,
        consent_required=out.consent_required,
        required_consenters=out.required,
        child_consent_required=out.consent_required and req.child,
        child_view_recorded=req.child_view,
        child_view_given=child_view_given,
        custody=custody,
        information_rights=_information_rights(
            case, custody, lambda recipient: evaluate(None, recipient).met
        ),
        consenter_status=out.status,
        missing=out.missing,
        scope_mismatch=out.scope,
        complete=out.allowed,
        allowed=out.allowed,
        reason=out.reason,
        reason_code=out.code,
        rule_used=out.rule_used,
        organisation_rule=case.organisation_rule,
        legal_ground=out.legal_ground,
        duty=out.duty,
        duty_text=None if out.duty is None else DUTY_TEXT[out.duty],
        duty_towards=out.towards,
        consents_used=() if out.legal_ground else out.used,
        grounds_used=out.used if out.legal_ground else (),
        next_consent_change=next_consent_change(case.child.birthdate, case.on),
        custody_evidence={
            a.id: a.custody_evidence for a in case.adults if a.custody_evidence is not None
        },
        notes=_notes(case, req, ground_ignored),
    )
