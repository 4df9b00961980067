"""A participant in two organisations acts on a case in the capacity they chose."""

from __future__ import annotations

from dataclasses import replace

from portal.cases.models import CaseRole, CaseStatus
from portal.people.models import PersonKind, Role
from portal.policy import Action, Actor, CaseFacts, decide
from tests.policy._world import (
    SCHOOL,
    TWO_PARENTS,
    YOUTH,
    case,
    consent,
    item,
    professional,
    with_consents,
)

# Sanne: school social worker at the school and youth-care worker at the youth-care organisation.
SANNE = Actor(person_id="person-sanne", kind=PersonKind.PROFESSIONAL, name="Sanne",
              memberships=frozenset({(SCHOOL, Role.SCHOOL_SOCIAL_WORKER),
                                     (YOUTH, Role.YOUTH_CARE_WORKER)}))
FOR_YOUTH_CARE_WORKERS = tuple(consent(p, ("health",), ("role:youth_care_worker",),
                                       cid=f"c-{p}") for p in ("mother", "father"))


def facts_for(organisation: str, role: Role | None) -> CaseFacts:
    facts = with_consents(case(adults=TWO_PARENTS), *FOR_YOUTH_CARE_WORKERS)
    return replace(facts, participants={**facts.participants, SANNE.person_id:
                                        CaseRole.PARTICIPANT},
                   participant_organisations={**facts.participant_organisations,
                                              SANNE.person_id: organisation},
                   participant_roles={SANNE.person_id: role.value if role else None})


def test_the_chosen_capacity_decides_which_consents_name_the_reader() -> None:
    as_worker = facts_for(YOUTH, Role.YOUTH_CARE_WORKER)
    as_school = facts_for(SCHOOL, Role.SCHOOL_SOCIAL_WORKER)
    assert decide(SANNE, Action.ITEM_READ, as_worker, item("health")).allowed
    assert not decide(SANNE, Action.ITEM_READ, as_school, item("health")).allowed


def test_a_role_no_longer_held_counts_for_nothing() -> None:
    # Chosen as youth-care worker at the school, where she has no such role.
    stale = facts_for(SCHOOL, Role.YOUTH_CARE_WORKER)
    assert not decide(SANNE, Action.ITEM_READ, stale, item("health")).allowed


def test_the_care_coordinator_of_the_case_organisation_appoints_the_chair() -> None:
    facts = replace(case(), organisation_id=SCHOOL)
    ib = professional("ib2", SCHOOL, Role.CARE_COORDINATOR)
    assert decide(ib, Action.CASE_APPOINT_CHAIR, facts).allowed
    colleague = professional("mentor2", SCHOOL, Role.MENTOR)
    refused = decide(colleague, Action.CASE_APPOINT_CHAIR, facts)
    assert not refused.allowed and not refused.hide  # type: ignore[union-attr]
    elsewhere = professional("ib3", YOUTH, Role.CARE_COORDINATOR)
    hidden = decide(elsewhere, Action.CASE_APPOINT_CHAIR, facts)
    assert not hidden.allowed and hidden.hide  # type: ignore[union-attr]
    closed = replace(facts, status=CaseStatus.CLOSED)
    assert not decide(ib, Action.CASE_APPOINT_CHAIR, closed).allowed


def test_two_roles_in_one_organisation_count_only_as_chosen() -> None:
    both = Actor(person_id="person-sanne", kind=PersonKind.PROFESSIONAL, name="Sanne",
                 memberships=frozenset({(SCHOOL, Role.MENTOR), (SCHOOL, Role.CARE_COORDINATOR)}))
    for_ib = tuple(consent(p, ("health",), ("role:care_coordinator",), cid=f"c-{p}")
                   for p in ("mother", "father"))
    base = with_consents(case(adults=TWO_PARENTS), *for_ib)

    def acting_as(role: Role | None) -> CaseFacts:
        return replace(base, participants={**base.participants,
                                           both.person_id: CaseRole.PARTICIPANT},
                       participant_organisations={**base.participant_organisations,
                                                  both.person_id: SCHOOL},
                       participant_roles={both.person_id: role.value if role else None})

    assert decide(both, Action.ITEM_READ, acting_as(Role.CARE_COORDINATOR),
                  item("health")).allowed
    assert not decide(both, Action.ITEM_READ, acting_as(Role.MENTOR),
                      item("health")).allowed
    # A participant added before capacities were stored acts in every role they hold there.
    assert decide(both, Action.ITEM_READ, acting_as(None), item("health")).allowed
