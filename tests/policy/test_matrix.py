"""The exhaustive access matrix, generated: persona × relation × consent state × age ×
setting × item category × action, each compared with an oracle written here from
DOMAIN.md's rules in plain terms (independently of portal.policy's tables).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from portal.cases.models import CaseRole
from portal.consent.access import family_standing
from portal.consent.engine import CHILD, Setting
from portal.people.models import PersonKind, Role
from portal.policy import Action, Actor, CaseFacts, ChildFacts, FamilyPart, decide, family_parts
from tests.policy._world import (
    ELSEWHERE,
    ON,
    SCHOOL,
    YOUTH,
    adult,
    born,
    case,
    consent,
    item,
    parent,
    pid,
)

CATEGORIES = ("school_progress", "behaviour", "social_emotional", "health",
              "family_situation", "other")
CONSENTED = frozenset({"school_progress", "behaviour"})  # what every consent here covers
ADULTS = (parent("mother"), parent("father"), parent("ex", custody=False),
          adult("foster", "foster_parent"))
# Who gave consent, and whether those consents are still valid.
CONSENTERS = ((), ("mother",), ("mother", "father"), ("mother", "father", CHILD), (CHILD,))
VALIDITY = ("valid", "withdrawn", "expired")
AGES = (9, 13, 16)
SETTINGS = (Setting.SCHOOL, Setting.YOUTH_CARE)
PROFESSIONAL_ACTIONS = (Action.CASE_VIEW, Action.ITEM_READ, Action.CONSENT_VIEW,
                        Action.CONSENT_RECORD, Action.BREAK_GLASS, Action.CASE_CONVERT)
FAMILY_ACTIONS = (Action.FAMILY_VIEW, Action.FAMILY_GENERAL, Action.CONSENT_GIVE,
                  Action.CONSENT_WITHDRAW)
ACTIONS = PROFESSIONAL_ACTIONS + FAMILY_ACTIONS

# What each case role may do besides reading items, in words: everybody looks;
# the chair records consent and converts; chair and participants may break the glass.
ROLE_MAY = {
    "chair": {Action.CASE_VIEW, Action.ITEM_READ, Action.CONSENT_VIEW, Action.CONSENT_RECORD,
              Action.BREAK_GLASS},
    "participant": {Action.CASE_VIEW, Action.ITEM_READ, Action.CONSENT_VIEW,
                    Action.BREAK_GLASS},
    "minute_taker": {Action.CASE_VIEW, Action.ITEM_READ, Action.CONSENT_VIEW},
    "observer": {Action.CASE_VIEW, Action.ITEM_READ, Action.CONSENT_VIEW},
    "none": set(),
}
PROFESSIONALS = {"mentor": (SCHOOL, Role.MENTOR), "ib": (SCHOOL, Role.CARE_COORDINATOR),
                 "worker": (YOUTH, Role.YOUTH_CARE_WORKER),
                 "notulist": (SCHOOL, Role.MINUTE_TAKER)}
RELATIVES = ("mother", "father", "ex", "foster", "pupil", "stranger")


@dataclass(frozen=True)
class World:
    consenters: tuple[str, ...]
    validity: str
    age: int
    setting: Setting


def consents_of(world: World) -> tuple:  # type: ignore[type-arg]
    extra = {"valid": {}, "withdrawn": {"withdrawn_on": ON},
             "expired": {"valid_until": ON - timedelta(days=1)}}[world.validity]
    result = []
    for who in world.consenters:
        # Parents share with the school and the foster parent; the child with
        # both organisations and the mother.
        recipients = (f"org:{SCHOOL}", f"org:{YOUTH}", f"adult:{pid('mother')}") \
            if who == CHILD else (f"org:{SCHOOL}", f"adult:{pid('foster')}")
        result.append(consent(who, tuple(sorted(CONSENTED)), recipients, cid=f"c-{who}",
                              **extra))
    return tuple(result)


def facts_of(world: World, actor: Actor, case_role: str) -> CaseFacts:
    base = case(birthdate=born(world.age, days=10), setting=world.setting, adults=ADULTS,
                consents=consents_of(world), pupil="pupil")
    participants = {p: r for p, r in base.participants.items() if p != actor.person_id}
    orgs = {p: o for p, o in base.participant_organisations.items() if p != actor.person_id}
    if case_role != "none":
        participants[actor.person_id] = CaseRole(case_role)
        orgs[actor.person_id] = min(actor.organisation_ids)
    return CaseFacts(case_id=base.case_id, status=base.status, legal_basis=base.legal_basis,
                     anonymous=False, child_id=base.child_id, participants=participants,
                     participant_organisations=orgs, consent=base.consent, now=base.now)


def valid_consenters(world: World) -> set[str]:
    return set(world.consenters) if world.validity == "valid" else set()


def required(world: World) -> set[str]:
    if world.age >= 16:
        return {CHILD}
    parents = {"mother", "father"}  # the two with custody; not the ex, not the foster parent
    if world.age >= 12 and world.setting is Setting.YOUTH_CARE:
        return parents | {CHILD}
    return parents


def professional_may_read(world: World, organisation: str, category: str) -> bool:
    """Every required consenter has a valid consent naming the category and the organisation."""
    names_org = {"mother": {SCHOOL}, "father": {SCHOOL}, CHILD: {SCHOOL, YOUTH}}
    return category in CONSENTED and all(
        who in valid_consenters(world) and organisation in names_org[who]
        for who in required(world))


def standing(world: World, who: str) -> str:
    valid = valid_consenters(world)
    if who == "pupil":
        return "full" if world.age >= 16 else "none"
    if who == "stranger":
        return "none"
    if world.age >= 16:
        if who == "mother" and CHILD in valid:
            return "informed"
        return "general" if who in ("mother", "father", "ex") else "none"
    if who in ("mother", "father"):
        return "full"
    if who == "ex":
        return "general"
    # The foster parent: informed when every required consenter shared with them
    # (only the parents' consents name the foster parent here).
    return "informed" if required(world) <= valid & {"mother", "father"} else "none"


def family_may_read(world: World, who: str, category: str, shared: bool) -> bool:
    level = standing(world, who)
    if not shared or level in ("general", "none"):
        return False
    if level == "full":
        return True
    # Informed: only the categories the consenters shared with this very person.
    return category in CONSENTED


def expected(world: World, persona: str, case_role: str, action: Action, category: str,
             shared: bool) -> bool:
    if persona in PROFESSIONALS:
        if action not in ROLE_MAY[case_role]:
            return False
        if action is Action.ITEM_READ:
            return professional_may_read(world, PROFESSIONALS[persona][0], category)
        return True
    level = standing(world, persona)
    if action is Action.ITEM_READ:
        return family_may_read(world, persona, category, shared)
    allowed = {"full": set(FAMILY_ACTIONS),
               # Title and purpose are case content: not for those merely let in.
               "informed": {Action.FAMILY_GENERAL},
               "general": {Action.FAMILY_GENERAL}, "none": set()}[level]
    return action in allowed


def personas() -> list[tuple[str, str]]:
    professional = [(p, r) for p in PROFESSIONALS for r in ROLE_MAY]
    return professional + [(r, "none") for r in RELATIVES]


def actor_of(persona: str) -> Actor:
    if persona in PROFESSIONALS:
        org, role = PROFESSIONALS[persona]
        return Actor(person_id=pid(persona), kind=PersonKind.PROFESSIONAL, name=persona,
                     memberships=frozenset({(org, role)}))
    return Actor(person_id=pid(persona), kind=PersonKind.CITIZEN, name=persona)


def worlds() -> list[World]:
    return [World(c, v, a, s) for c in CONSENTERS for v in VALIDITY
            for a in AGES for s in SETTINGS if c or v == "valid"]


@pytest.mark.parametrize(("persona", "case_role"), personas(), ids=lambda value: str(value))
def test_access_matrix(persona: str, case_role: str) -> None:
    actor = actor_of(persona)
    mismatches = []
    checked = 0
    for world in worlds():
        facts = facts_of(world, actor, case_role)
        for action in ACTIONS:
            cells = itertools.product(CATEGORIES, (False, True)) \
                if action is Action.ITEM_READ else [("behaviour", False)]
            for category, shared in cells:
                got = decide(actor, action, facts, item(category, shared=shared)).allowed
                want = expected(world, persona, case_role, action, category, shared)
                checked += 1
                if got is not want:
                    mismatches.append((world, action.value, category, shared, got))
    assert checked == len(worlds()) * (len(ACTIONS) - 1 + 2 * len(CATEGORIES))
    assert mismatches[:10] == []


def test_the_matrix_is_not_trivial() -> None:
    """Both outcomes occur for every action: the oracle is not saying 'no' to everything."""
    outcomes: dict[Action, set[bool]] = {}
    for (persona, case_role), world in itertools.product(personas(), worlds()):
        for action in ACTIONS:
            outcomes.setdefault(action, set()).add(
                expected(world, persona, case_role, action, "behaviour", True))
    assert all(seen == {False, True} for action, seen in outcomes.items()
               if action is not Action.CASE_CONVERT)
    assert ELSEWHERE  # the outsider's organisation exists in the world, but takes no part


# What the family pages show of a case, per standing (DOMAIN.md in words): those
# who decide see everything; whoever is let in or has general information sees
# that the case exists and who takes part; the rest nothing (404).
PAGE_PARTS = {
    "full": {FamilyPart.EXISTENCE, FamilyPart.CONTENT, FamilyPart.CONSENTS,
             FamilyPart.GIVE_CONSENT},
    "informed": {FamilyPart.EXISTENCE}, "general": {FamilyPart.EXISTENCE}, "none": set(),
}


@pytest.mark.parametrize("persona", RELATIVES + tuple(PROFESSIONALS))
def test_family_pages_matrix(persona: str) -> None:
    """The family pages' parts and the child's access log, generated over every world."""
    actor = actor_of(persona)
    mismatches = []
    for world in worlds():
        facts = facts_of(world, actor, "none")
        level = standing(world, persona) if persona in RELATIVES else "none"
        parts = family_parts(actor, facts)
        if parts != PAGE_PARTS[level]:
            mismatches.append((world, "parts", sorted(parts)))
        # The log of who looked at the child: custodians under 16, the pupil from 16.
        assert facts.consent is not None
        child = ChildFacts(child_id="c", standing=family_standing(
            replace(facts.consent, consents=()), actor.person_id))
        log = decide(actor, Action.AUDIT_CHILD, child=child)
        if log.allowed is not (level == "full"):
            mismatches.append((world, "audit.child", log.allowed))
    assert mismatches[:10] == []
