"""The consent side of the access policy: pure, no database, no clock.

``portal.policy.decide`` consults this module for two questions, always through
the engine (:func:`portal.consent.engine.decide`), never by rules of its own:

* may this professional read an item with these data categories? Every category
  must be covered: by a scoped legal ground whose scope names that category and
  one of the reader's identities (on the request date), or by valid consent of every
  required consenter whose scope names that category and one of the reader's
  recipient identities (``org:<organisation id>`` of the organisation they take
  part for, ``role:<role>`` of their role in it, ``person:<person id>``);
* where does a parent, foster parent or pupil stand towards a case about the
  child (:func:`family_standing`)?

How recipients are matched: the engine compares one request recipient with the
consents' recipients exactly. A reader has several identities, so each consent
that names any of them is projected onto one canonical recipient
(``person:<reader>``) before the engine is asked. The engine itself is unchanged
and the CLI's scenarios mean the same thing.

The facts are loaded by :mod:`portal.consent.facts`; the request date ``on`` is
the date in the Netherlands (birthdays and expiry are calendar dates there).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from portal.consent.engine import (
    CHILD,
    DEFAULT_CATEGORIES,
    Adult,
    Basis,
    Child,
    Consent,
    ConsentCase,
    ConsentDecision,
    ConsenterStatus,
    ConsentInputError,
    InformationRight,
    OrganisationRule,
    Request,
    ScopedGround,
    Setting,
    age_on,
    check_consent,
    decide,
)

LOCAL_TIME = ZoneInfo("Europe/Amsterdam")

# Deny reasons (access_record.reason holds at most 64 characters), most telling first:
# a withdrawal explains a refusal better than a second parent who never answered.
STATUS_REASONS: tuple[tuple[ConsenterStatus, str], ...] = (
    (ConsenterStatus.WITHDRAWN, "consent_withdrawn"),
    (ConsenterStatus.EXPIRED, "consent_expired"),
    (ConsenterStatus.NOT_YET_VALID, "consent_not_yet_valid"),
    (ConsenterStatus.CATEGORY_MISMATCH, "consent_scope_category"),
    (ConsenterStatus.RECIPIENT_MISMATCH, "consent_scope_recipient"),
    (ConsenterStatus.PURPOSE_MISMATCH, "consent_purpose_mismatch"),
    (ConsenterStatus.NO_CONSENT, "consent_missing"),
)
BASIS_MAX = 200  # access_record.basis
MAX_LISTED_CONSENTS = 4  # with the case role and basis, fits 200 characters


def local_date(moment: datetime) -> date:
    """The calendar date in the Netherlands at ``moment`` (an aware datetime)."""
    return moment.astimezone(LOCAL_TIME).date()


@dataclass(frozen=True)
class ConsentFacts:
    """What the engine needs about a named case, as loaded for one request."""

    on: date
    birthdate: date
    setting: Setting
    adults: tuple[Adult, ...]  # adult ids are person ids
    consents: tuple[Consent, ...]  # consent ids are ConsentRecord ids
    pupil_person_id: str | None = None  # the child's own account, if any
    organisation_rule: OrganisationRule = OrganisationRule.EVERY_CUSTODIAN
    categories: frozenset[str] = DEFAULT_CATEGORIES
    grounds: tuple[ScopedGround, ...] = ()  # ground ids are CaseGround ids

    @property
    def age(self) -> int:
        return age_on(self.birthdate, self.on)


@dataclass(frozen=True)
class Outcome:
    """The consent side's answer for one reader and one item."""

    allowed: bool
    basis: str = ""  # Allow.basis: the consent ids or the ground (and its duty)
    reason: str = ""  # Deny.reason code
    detail: str = ""  # the engine's human-readable reason
    consent_ids: tuple[str, ...] = ()
    legal_ground: str | None = None


def recipient_identities(person_id: str, organisation_id: str | None,
                         roles: Iterable[str]) -> frozenset[str]:
    """The recipients that name this reader in a consent's scope."""
    found = {f"person:{person_id}"}
    if organisation_id:
        found.add(f"org:{organisation_id}")
        found.update(f"role:{role}" for role in roles)
    return frozenset(found)


def engine_case(facts: ConsentFacts, basis: Basis, category: str, recipient: str,
                consents: tuple[Consent, ...] | None = None,
                on: date | None = None,
                grounds: tuple[ScopedGround, ...] | None = None) -> ConsentCase:
    return ConsentCase(
        on=on or facts.on, child=Child(facts.birthdate), setting=facts.setting, basis=basis,
        adults=facts.adults, consents=facts.consents if consents is None else consents,
        request=Request(category=category, recipient=recipient),
        organisation_rule=facts.organisation_rule, categories=facts.categories,
        grounds=facts.grounds if grounds is None else grounds)


_Scoped = TypeVar("_Scoped", Consent, ScopedGround)


def _projected(scoped: Iterable[_Scoped], identities: frozenset[str],
               canonical: str) -> tuple[_Scoped, ...]:
    return tuple(replace(c, recipients=c.recipients | {canonical})
                 if c.recipients & identities else c for c in scoped)


def deny_reason(decision: ConsentDecision) -> str:
    unmet = {decision.consenter_status[c] for c in (*decision.missing, *decision.scope_mismatch)}
    if decision.reason_code.value == "no_custodian":
        return "no_custodian"
    return next((code for status, code in STATUS_REASONS if status in unmet), "consent_missing")


def _consent_basis(ids: Iterable[str]) -> str:
    listed = sorted(set(ids))
    shown = listed[:MAX_LISTED_CONSENTS]
    more = len(listed) - len(shown)
    text = "consent:" + ",".join(shown) + (f",+{more}" if more else "")
    return text[:BASIS_MAX]


def item_access(facts: ConsentFacts, basis: Basis, recipient: str,
                identities: frozenset[str], categories: Iterable[str],
                *, project: bool = True) -> Outcome:
    """Whether every category is covered for ``recipient`` (the engine decides each).

    ``project``: consents naming any of ``identities`` count as naming
    ``recipient`` (a professional); without it the recipient must be named
    exactly (a family member, ``adult:<person id>``).
    """
    consents = _projected(facts.consents, identities, recipient) if project else facts.consents
    grounds = _projected(facts.grounds, identities, recipient) if project else facts.grounds
    used: set[str] = set()
    grounds_used: set[str] = set()
    decision: ConsentDecision | None = None
    try:
        for category in sorted(categories):
            decision = decide(engine_case(facts, basis, category, recipient, consents,
                                          grounds=grounds))
            if not decision.allowed:
                return Outcome(False, reason=deny_reason(decision), detail=decision.reason)
            used.update(decision.consents_used)
            grounds_used.update(decision.grounds_used)
    except ConsentInputError as error:
        # Inconsistent facts never grant anything.
        reason = "unknown_category" if "category" in error.path else "consent_facts_invalid"
        return Outcome(False, reason=reason, detail=str(error))
    if decision is None:
        return Outcome(False, reason="item_without_category")
    if decision.legal_ground is not None and not used:
        duty = f";duty:{decision.duty.value}" if decision.duty else ""
        scoped = f";scoped:{','.join(sorted(grounds_used))}" if grounds_used else ""
        text = f"ground:{decision.legal_ground.value}{duty}{scoped}"
        return Outcome(True, basis=text[:BASIS_MAX], detail=decision.reason,
                       legal_ground=decision.legal_ground.value)
    if grounds_used:
        # Some categories on consent, others within a ground's scope: name both.
        text = f"{_consent_basis(used)};scoped:{','.join(sorted(grounds_used))}"
        return Outcome(True, basis=text[:BASIS_MAX], detail=decision.reason,
                       consent_ids=tuple(sorted(used)))
    return Outcome(True, basis=_consent_basis(used), detail=decision.reason,
                   consent_ids=tuple(sorted(used)))


# --- the family: parents, guardians, foster parents, the pupil ---------------------


class Standing(enum.StrEnum):
    """Where a citizen stands towards a case about a child (DOMAIN.md)."""

    PUPIL = "pupil"  # the young person, 16 or over
    CUSTODIAN = "custodian"  # a parent with custody or guardian of a child under 16
    INFORMED = "informed"  # shown what the consenters agreed to share with them
    GENERAL = "general"  # general information only (a parent without custody)
    NO_RIGHT = "no_right"  # related, but nothing to see (a foster parent without consent)
    UNRELATED = "unrelated"


def family_standing(facts: ConsentFacts, person_id: str) -> Standing:
    """Custody and information rights come from the engine; age from the request date."""
    age = facts.age
    if person_id == facts.pupil_person_id:
        # Under 16 the parents speak for the child here; the pupil's own view
        # is recorded by the chair (a signed form), not through this page.
        return Standing.PUPIL if age >= 16 else Standing.NO_RIGHT
    if person_id not in {a.id for a in facts.adults}:
        return Standing.UNRELATED
    recipient = f"adult:{person_id}"
    try:
        decision = decide(engine_case(facts, Basis.CONSENT, min(facts.categories), recipient))
    except ConsentInputError:
        return Standing.NO_RIGHT
    if age >= 16:
        # From 16 the young person alone decides who sees what.
        consented = any(c.by == CHILD and check_consent(c, facts.on, None, None, recipient)
                        is ConsenterStatus.OK for c in facts.consents)
        if consented:
            return Standing.INFORMED
        return Standing.GENERAL if _is_parent(facts, person_id) else Standing.NO_RIGHT
    if decision.custody.get(person_id):
        return Standing.CUSTODIAN
    right = decision.information_rights.get(person_id, InformationRight.NONE)
    return {
        InformationRight.CONSENTED: Standing.INFORMED,
        InformationRight.GENERAL: Standing.GENERAL,
        InformationRight.INFORMATION: Standing.GENERAL,
        InformationRight.NONE: Standing.NO_RIGHT,
    }[right]


def _is_parent(facts: ConsentFacts, person_id: str) -> bool:
    return any(a.id == person_id and a.relation.value in ("parent", "guardian")
               for a in facts.adults)


def may_consent(facts: ConsentFacts, consenter: str) -> bool:
    """Whether ``consenter`` (an adult id or CHILD) gives a consent that counts or is heard.

    Adults with custody of a child under 16; the child from 12 (a co-consent in
    youth care, a recorded view in school, the only consent from 16).
    """
    age = facts.age
    if consenter == CHILD:
        return age >= 12
    if age >= 16:
        return False
    try:
        decision = decide(engine_case(facts, Basis.CONSENT, min(facts.categories),
                                      f"person:{consenter}"))
    except ConsentInputError:
        return False
    return bool(decision.custody.get(consenter))
