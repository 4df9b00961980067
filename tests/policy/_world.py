"""Builders for policy tests: personas, a case with its consent facts, items.

One child, one case. Organisations: the school (SCHOOL) and a youth-care
organisation (YOUTH). Adults are keyed by the persona's person id.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from portal.cases.models import CaseRole, CaseStatus, LegalBasis
from portal.consent.access import ConsentFacts
from portal.consent.engine import (
    CHILD,
    Adult,
    Basis,
    Consent,
    CustodyFacts,
    OrganisationRule,
    Relation,
    Relationship,
    ScopedGround,
    Setting,
)
from portal.people.models import PersonKind, Role
from portal.policy import Actor, BreakGlassFacts, CaseFacts, ItemFacts

ON = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)  # noon in Amsterdam
SCHOOL = "11111111-1111-4111-8111-111111111111"
YOUTH = "22222222-2222-4222-8222-222222222222"
ELSEWHERE = "33333333-3333-4333-8333-333333333333"
CASE_ID = "44444444-4444-4444-8444-444444444444"
CHILD_ID = "55555555-5555-4555-8555-555555555555"


def pid(name: str) -> str:
    """A readable, valid person id per persona name."""
    return f"person-{name}"


def professional(name: str, organisation: str, role: Role) -> Actor:
    return Actor(person_id=pid(name), kind=PersonKind.PROFESSIONAL, name=name,
                 memberships=frozenset({(organisation, role)}))


def citizen(name: str) -> Actor:
    return Actor(person_id=pid(name), kind=PersonKind.CITIZEN, name=name)


MENTOR = professional("mentor", SCHOOL, Role.MENTOR)
IB = professional("ib", SCHOOL, Role.CARE_COORDINATOR)
WORKER = professional("worker", YOUTH, Role.YOUTH_CARE_WORKER)
NOTULIST = professional("notulist", SCHOOL, Role.MINUTE_TAKER)
OBSERVER = professional("observer", YOUTH, Role.SCHOOL_SOCIAL_WORKER)
OUTSIDER = professional("outsider", ELSEWHERE, Role.MENTOR)
DPO = professional("dpo", ELSEWHERE, Role.DPO)
ADMIN = professional("admin", ELSEWHERE, Role.ADMIN)
PARTICIPANTS = {MENTOR: CaseRole.PARTICIPANT, IB: CaseRole.CHAIR, WORKER: CaseRole.PARTICIPANT,
                NOTULIST: CaseRole.MINUTE_TAKER, OBSERVER: CaseRole.OBSERVER}


def parent(name: str, custody: bool | None = True, **kw: Any) -> Adult:
    return Adult(pid(name), Relation.PARENT, custody=custody, **kw)


def facts_parent(name: str, relationship: str, **kw: Any) -> Adult:
    return Adult(pid(name), Relation.PARENT,
                 custody_facts=CustodyFacts(Relationship(relationship), **kw))


def adult(name: str, relation: str) -> Adult:
    return Adult(pid(name), Relation(relation))


def consent(by: str, categories: tuple[str, ...] = ("behaviour",),
            recipients: tuple[str, ...] = (f"org:{SCHOOL}",), *, cid: str | None = None,
            valid_from: date = date(2026, 1, 1), **kw: Any) -> Consent:
    return Consent(by=CHILD if by == CHILD else pid(by), categories=frozenset(categories),
                   recipients=frozenset(recipients), valid_from=valid_from,
                   id=cid or f"c-{by}-{'-'.join(categories)}", **kw)


def born(age: int, *, days: int = 0) -> date:
    """A birthdate making the child ``age`` on ON, ``days`` after that birthday."""
    return date(ON.year - age, ON.month, ON.day) - timedelta(days=days)


DEFAULT_BIRTHDATE = date(2013, 10, 29)  # 13 on ON


def case(*, birthdate: date = DEFAULT_BIRTHDATE, setting: Setting = Setting.SCHOOL,
         basis: LegalBasis = LegalBasis.CONSENT, adults: tuple[Adult, ...] = (),
         consents: tuple[Consent, ...] = (), rule: OrganisationRule =
         OrganisationRule.EVERY_CUSTODIAN, on: date = ON, pupil: str | None = None,
         anonymous: bool = False, status: CaseStatus = CaseStatus.OPEN,
         grounds: tuple[ScopedGround, ...] = (), **extra: Any) -> CaseFacts:
    consent_facts = None if anonymous else ConsentFacts(
        on=on, birthdate=birthdate, setting=setting, adults=adults, consents=consents,
        pupil_person_id=pid(pupil) if pupil else None, organisation_rule=rule,
        grounds=grounds)
    return CaseFacts(
        case_id=CASE_ID, status=status, legal_basis=basis, anonymous=anonymous,
        child_id=None if anonymous else CHILD_ID,
        participants={a.person_id: role for a, role in PARTICIPANTS.items()},
        participant_organisations={a.person_id: min(a.organisation_ids)
                                   for a in PARTICIPANTS},
        consent=consent_facts, now=NOW, **extra)


def ground(basis: str, *recipients: str, categories: tuple[str, ...] = ("health",),
           gid: str = "g-1", valid_from: date = date(2026, 1, 1), **kw: Any) -> ScopedGround:
    """A scoped legal ground (``recipients`` as consents name them)."""
    return ScopedGround(basis=Basis(basis), recipients=frozenset(recipients),
                        categories=frozenset(categories), valid_from=valid_from, id=gid, **kw)


def item(*categories: str, shared: bool = False, item_id: str = "item-1") -> ItemFacts:
    return ItemFacts(item_type="minutes_section", item_id=item_id,
                     categories=frozenset(categories), shared_with_parents=shared)


def grant(person: Actor, hours: float = 24) -> BreakGlassFacts:
    return BreakGlassFacts(grant_id="grant-1", person_id=person.person_id,
                           expires_at=NOW + timedelta(hours=hours))


def with_consents(facts: CaseFacts, *consents: Consent) -> CaseFacts:
    assert facts.consent is not None
    return replace(facts, consent=replace(facts.consent, consents=consents))


TWO_PARENTS = (parent("mother"), parent("father"))
