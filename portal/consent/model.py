"""Inputs, outputs and basic facts (age, custody) of the consent engine.

See engine.py for the documented semantics.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from portal.consent.rules import (
    AGE_BANDS,
    CHILD,
    CONSENT_CHANGE_AGES,
    DEFAULT_CATEGORIES,
    RECIPIENT_RE,
    RELATION_RULES,
    RELATIONSHIP_CUSTODY,
    AgeBand,
    Basis,
    ConsenterStatus,
    ConsentInputError,
    CustodyEvidence,
    Duty,
    InformationRight,
    OrganisationRule,
    ReasonCode,
    Relation,
    Relationship,
    Setting,
)

# --- inputs -----------------------------------------------------------------------


@dataclass(frozen=True)
class Child:
    birthdate: date


@dataclass(frozen=True)
class CustodyFacts:
    relationship: Relationship
    is_mother: bool | None = None
    custody_applied: bool = False  # joint custody applied for and registered (not recognition)
    court_custody: bool | None = None  # a court decision; overrides the defaults above


@dataclass(frozen=True)
class Adult:
    id: str
    relation: Relation
    custody: bool | None = None  # explicit; overrides custody_facts
    custody_facts: CustodyFacts | None = None
    custody_evidence: CustodyEvidence | None = None  # recorded, not decisive

    def __post_init__(self) -> None:
        rule = RELATION_RULES[self.relation]
        if not self.id:
            raise ConsentInputError("id", "must not be empty")
        if self.id == CHILD:
            raise ConsentInputError("id", f"{CHILD!r} is reserved for the child")
        if self.custody_facts is not None and not rule.facts_apply:
            raise ConsentInputError("custody_facts", f"not applicable to a {self.relation.value}")
        if rule.custody_by_law is not None and self.custody not in (None, rule.custody_by_law):
            raise ConsentInputError(
                "custody", f"a {self.relation.value} always has custody={rule.custody_by_law}"
            )
        if rule.custody_by_law is None and self.custody is None:
            if self.custody_facts is None:
                raise ConsentInputError("custody", "give 'custody' or 'custody_facts'")
            if custody_from_facts(self.custody_facts) is None:
                needed = (
                    "is_mother"
                    if self.custody_facts.relationship is Relationship.UNMARRIED
                    else "court_custody"
                )
                raise ConsentInputError(
                    f"custody_facts.{needed}",
                    f"required for relationship {self.custody_facts.relationship.value!r}",
                )


@dataclass(frozen=True)
class Consent:
    by: str  # an adult id or CHILD
    categories: frozenset[str]
    recipients: frozenset[str]
    valid_from: date
    valid_until: date | None = None
    withdrawn_on: date | None = None
    id: str | None = None
    purpose: str | None = None

    def __post_init__(self) -> None:
        if not self.categories:
            raise ConsentInputError("categories", "must not be empty")
        if not self.recipients:
            raise ConsentInputError("recipients", "must not be empty")
        for recipient in sorted(self.recipients):
            if not RECIPIENT_RE.match(recipient):
                raise ConsentInputError("recipients", f"invalid recipient {recipient!r}")
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ConsentInputError("valid_until", "is before valid_from")


@dataclass(frozen=True)
class ScopedGround:
    """A legal ground as a disclosure basis: to these recipients, these categories, these days.

    Outside its scope the consent rules apply as usual. ``valid_until`` is the
    last day it covers (None: until ended); ``ended_on`` is the first day it no
    longer covers (an end counts from that day, never retroactively).
    """

    basis: Basis
    recipients: frozenset[str]
    categories: frozenset[str]
    valid_from: date
    valid_until: date | None = None
    ended_on: date | None = None
    id: str | None = None

    def __post_init__(self) -> None:
        if self.basis is Basis.CONSENT:
            raise ConsentInputError("basis", "consent is not a legal ground")
        if not self.categories:
            raise ConsentInputError("categories", "must not be empty")
        if not self.recipients:
            raise ConsentInputError("recipients", "must not be empty")
        for recipient in sorted(self.recipients):
            if not RECIPIENT_RE.match(recipient):
                raise ConsentInputError("recipients", f"invalid recipient {recipient!r}")
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ConsentInputError("valid_until", "is before valid_from")

    def covers(self, on: date, category: str, recipient: str) -> bool:
        """Whether this disclosure (``category`` to ``recipient`` on ``on``) is in scope."""
        if on < self.valid_from or (self.valid_until is not None and on > self.valid_until):
            return False
        if self.ended_on is not None and on >= self.ended_on:
            return False
        return category in self.categories and recipient in self.recipients


@dataclass(frozen=True)
class Request:
    category: str
    recipient: str

    def __post_init__(self) -> None:
        if not RECIPIENT_RE.match(self.recipient):
            raise ConsentInputError("recipient", f"invalid recipient {self.recipient!r}")


@dataclass(frozen=True)
class ConsentCase:
    on: date
    child: Child
    setting: Setting
    basis: Basis
    adults: tuple[Adult, ...]
    consents: tuple[Consent, ...]
    request: Request
    organisation_rule: OrganisationRule = OrganisationRule.EVERY_CUSTODIAN
    case_purpose: str | None = None
    categories: frozenset[str] = DEFAULT_CATEGORIES
    # Scoped legal grounds; ``basis`` other than consent is the older, unscoped
    # form: "this very request is made on that ground".
    grounds: tuple[ScopedGround, ...] = ()

    def __post_init__(self) -> None:
        if self.on < self.child.birthdate:
            raise ConsentInputError("on", "is before the child's birthdate")
        if not self.categories:
            raise ConsentInputError("categories", "must not be empty")
        ids = [a.id for a in self.adults]
        for i, adult_id in enumerate(ids):
            if adult_id in ids[:i]:
                raise ConsentInputError(f"adults[{i}].id", f"duplicate id {adult_id!r}")
        known = {f"adult:{a}" for a in ids}
        consent_ids = [c.id for c in self.consents]
        for i, c in enumerate(self.consents):
            if c.by != CHILD and c.by not in ids:
                raise ConsentInputError(f"consents[{i}].by", f"unknown adult {c.by!r}")
            if c.id is not None and c.id in consent_ids[:i]:
                raise ConsentInputError(f"consents[{i}].id", f"duplicate id {c.id!r}")
            unknown = sorted(c.categories - self.categories)
            if unknown:
                raise ConsentInputError(
                    f"consents[{i}].categories", f"unknown category {unknown[0]!r}"
                )
            strangers = sorted(r for r in c.recipients if r.startswith("adult:") and r not in known)
            if strangers:
                raise ConsentInputError(
                    f"consents[{i}].recipients", f"unknown adult {strangers[0]!r}"
                )
        for i, g in enumerate(self.grounds):
            unknown = sorted(g.categories - self.categories)
            if unknown:
                raise ConsentInputError(
                    f"grounds[{i}].categories", f"unknown category {unknown[0]!r}"
                )
        if self.request.category not in self.categories:
            raise ConsentInputError(
                "request.category", f"unknown category {self.request.category!r}"
            )
        if self.request.recipient.startswith("adult:") and self.request.recipient not in known:
            raise ConsentInputError(
                "request.recipient", f"unknown adult {self.request.recipient!r}"
            )


# --- output -----------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentDecision:
    on: date
    age: int
    setting: Setting
    basis: Basis
    consent_required: bool
    required_consenters: tuple[str, ...]  # sorted adult ids, then CHILD if required
    child_consent_required: bool
    child_view_recorded: bool
    child_view_given: bool
    custody: Mapping[str, bool]  # every adult
    information_rights: Mapping[str, InformationRight]  # adults without custody
    consenter_status: Mapping[str, ConsenterStatus]  # every required consenter
    missing: tuple[str, ...]
    scope_mismatch: tuple[str, ...]
    complete: bool
    allowed: bool
    reason: str
    reason_code: ReasonCode
    rule_used: str  # RuleUsed value or "legal_ground:<basis>"
    organisation_rule: OrganisationRule
    legal_ground: Basis | None
    duty: Duty | None
    duty_text: str | None
    duty_towards: tuple[str, ...]  # whom to inform / ask for consent under a legal ground
    consents_used: tuple[str, ...]  # consent id, or "consents[<index>]" without an id
    next_consent_change: date | None
    custody_evidence: Mapping[str, CustodyEvidence]
    notes: tuple[str, ...] = field(default=())
    grounds_used: tuple[str, ...] = field(default=())  # scoped ground id or "grounds[<index>]"


def custody_from_facts(facts: CustodyFacts) -> bool | None:
    """Custody of a parent from the facts; None when the facts do not decide it."""
    if facts.court_custody is not None:
        return facts.court_custody
    default = RELATIONSHIP_CUSTODY[facts.relationship]
    if default is not None or facts.relationship is not Relationship.UNMARRIED:
        return default
    if facts.is_mother is None:
        return None
    return facts.is_mother or facts.custody_applied


# --- age --------------------------------------------------------------------------


def birthday_in_year(birthdate: date, year: int) -> date:
    """The birthday in ``year``; 29 February falls on 1 March in a non-leap year."""
    if (birthdate.month, birthdate.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 3, 1)
    return birthdate.replace(year=year)


def age_on(birthdate: date, on: date) -> int:
    """Completed years on ``on`` (exact birthday arithmetic)."""
    if on < birthdate:
        raise ConsentInputError("on", "is before the child's birthdate")
    years = on.year - birthdate.year
    return years if birthday_in_year(birthdate, on.year) <= on else years - 1


def age_band(age: int) -> AgeBand:
    return next(band for lower, band in AGE_BANDS if age >= lower)


def next_consent_change(birthdate: date, on: date) -> date | None:
    """The next 12th or 16th birthday strictly after ``on``; None from the 16th on.

    The 12th birthday is returned in every setting: in youth care the child then
    becomes a co-consenter, in a school-only case the child's view starts to count.
    """
    for years in CONSENT_CHANGE_AGES:
        year = birthdate.year + years
        if year > date.max.year:
            return None
        birthday = birthday_in_year(birthdate, year)
        if birthday > on:
            return birthday
    return None


def consent_warning(birthdate: date, on: date, warning_days: int) -> date | None:
    """The coming consent change if it is at most ``warning_days`` after ``on``, else None."""
    if warning_days < 0:
        raise ValueError("warning_days must not be negative")
    change = next_consent_change(birthdate, on)
    if change is None or (change - on).days > warning_days:
        return None
    return change


def resolve_custody(adult: Adult) -> bool:
    by_law = RELATION_RULES[adult.relation].custody_by_law
    if by_law is not None:
        return by_law
    if adult.custody is not None:
        return adult.custody
    result = None if adult.custody_facts is None else custody_from_facts(adult.custody_facts)
    if result is None:  # Adult.__post_init__ rejects this already
        raise ConsentInputError("custody", "cannot be determined")
    return result
