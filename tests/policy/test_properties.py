"""Invariants of the policy over generated cases (hypothesis).

Withdrawing or expiring a consent never widens access; adding a consent never
narrows it; outside its scope a legal ground never allows more than consent
would, ending one never widens access and invoking one never narrows it; an
outsider (a professional outside the case, an unrelated citizen,
the DPO, the administrator) never gets anything, whatever the facts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from portal.cases.models import LegalBasis
from portal.consent.engine import (
    CHILD,
    Adult,
    Basis,
    Consent,
    OrganisationRule,
    ScopedGround,
    Setting,
)
from portal.permissions import CASE_ACTIONS, FAMILY_ACTIONS
from portal.policy import Action, Actor, CaseFacts, decide
from tests.policy._world import (
    ADMIN,
    DPO,
    IB,
    MENTOR,
    NOTULIST,
    OBSERVER,
    ON,
    OUTSIDER,
    SCHOOL,
    WORKER,
    YOUTH,
    adult,
    case,
    citizen,
    grant,
    item,
    parent,
)

SETTINGS = settings(database=None, deadline=None, max_examples=200)
CATEGORIES = ("school_progress", "behaviour", "health", "other")
ACTIONS = sorted(CASE_ACTIONS | FAMILY_ACTIONS)
FAMILY = ("mother", "father", "ex", "foster", "pupil")
READERS = (IB, MENTOR, WORKER, NOTULIST, OBSERVER, *(citizen(n) for n in FAMILY))
OUTSIDERS = (OUTSIDER, DPO, ADMIN, citizen("stranger"))
POSSIBLE_ADULTS = {"mother": parent("mother"), "father": parent("father"),
                   "ex": parent("ex", custody=False), "foster": adult("foster", "foster_parent"),
                   "voogd": adult("voogd", "guardian"),
                   "protector": adult("protector", "youth_protector_ots")}
DAYS = st.dates(ON - timedelta(days=400), ON + timedelta(days=30))


@st.composite
def consents(draw: st.DrawFn, adult_ids: tuple[str, ...], index: int) -> Consent:
    start = draw(DAYS)
    recipients = (f"org:{SCHOOL}", f"org:{YOUTH}", "role:youth_care_worker", "role:mentor",
                  *(f"adult:{a}" for a in adult_ids))
    return Consent(
        by=draw(st.sampled_from((*adult_ids, CHILD))),
        categories=frozenset(draw(st.lists(st.sampled_from(CATEGORIES), min_size=1))),
        recipients=frozenset(draw(st.lists(st.sampled_from(recipients), min_size=1))),
        valid_from=start,
        valid_until=draw(st.none() | st.dates(start, start + timedelta(days=800))),
        withdrawn_on=draw(st.none() | DAYS), id=f"c{index}")


GROUND_RECIPIENTS = (f"org:{SCHOOL}", f"org:{YOUTH}", "role:youth_care_worker", "role:mentor",
                     "role:care_coordinator", "role:minute_taker",
                     *(f"person:{r.person_id}" for r in READERS),
                     *(f"adult:{r.person_id}" for r in READERS))


@st.composite
def grounds(draw: st.DrawFn, index: int) -> ScopedGround:
    start = draw(DAYS)
    return ScopedGround(
        basis=draw(st.sampled_from([b for b in Basis if b is not Basis.CONSENT])),
        recipients=frozenset(draw(st.lists(st.sampled_from(GROUND_RECIPIENTS), min_size=1))),
        categories=frozenset(draw(st.lists(st.sampled_from(CATEGORIES), min_size=1))),
        valid_from=start,
        valid_until=draw(st.none() | st.dates(start, start + timedelta(days=400))),
        ended_on=draw(st.none() | DAYS), id=f"g{index}")


@st.composite
def worlds(draw: st.DrawFn) -> CaseFacts:
    names = draw(st.lists(st.sampled_from(sorted(POSSIBLE_ADULTS)), unique=True, max_size=4))
    adults: tuple[Adult, ...] = tuple(POSSIBLE_ADULTS[n] for n in names)
    ids = tuple(a.id for a in adults)
    given_ = tuple(draw(consents(ids, i)) for i in range(draw(st.integers(0, 5))))
    return case(birthdate=draw(st.dates(date(2006, 1, 1), date(2021, 1, 1))),
                setting=draw(st.sampled_from(Setting)),
                basis=draw(st.sampled_from(LegalBasis)),
                rule=draw(st.sampled_from(OrganisationRule)), adults=adults, consents=given_,
                pupil="pupil",
                grounds=tuple(draw(grounds(i)) for i in range(draw(st.integers(0, 3)))),
                break_glass=(grant(MENTOR),) if draw(st.booleans()) else ())


def allowed(actor: Actor, action: Action, facts: CaseFacts, categories: frozenset[str],
            shared: bool) -> bool:
    return decide(actor, action, facts, item(*sorted(categories), shared=shared)).allowed


QUESTIONS = st.tuples(st.sampled_from(READERS), st.sampled_from(ACTIONS),
                      st.frozensets(st.sampled_from(CATEGORIES), min_size=1), st.booleans())


def with_consents(facts: CaseFacts, changed: tuple[Consent, ...]) -> CaseFacts:
    assert facts.consent is not None
    return replace(facts, consent=replace(facts.consent, consents=changed))


@SETTINGS
@given(worlds(), QUESTIONS, st.data())
def test_withdrawing_never_widens(facts: CaseFacts, question: tuple, data: st.DataObject
                                  ) -> None:  # type: ignore[type-arg]
    assert facts.consent is not None
    assume(facts.consent.consents)
    index = data.draw(st.integers(0, len(facts.consent.consents) - 1))
    when = data.draw(st.dates(ON - timedelta(days=30), ON))
    changed = list(facts.consent.consents)
    changed[index] = replace(changed[index], withdrawn_on=when)
    after = with_consents(facts, tuple(changed))
    if allowed(question[0], question[1], after, question[2], question[3]):
        assert allowed(question[0], question[1], facts, question[2], question[3])


@SETTINGS
@given(worlds(), QUESTIONS, st.data())
def test_expiring_never_widens(facts: CaseFacts, question: tuple, data: st.DataObject
                               ) -> None:  # type: ignore[type-arg]
    assert facts.consent is not None
    assume(facts.consent.consents)
    index = data.draw(st.integers(0, len(facts.consent.consents) - 1))
    changed = list(facts.consent.consents)
    assume(changed[index].valid_from < ON)
    changed[index] = replace(changed[index], valid_until=ON - timedelta(days=1))
    after = with_consents(facts, tuple(changed))
    if allowed(question[0], question[1], after, question[2], question[3]):
        assert allowed(question[0], question[1], facts, question[2], question[3])


@SETTINGS
@given(worlds(), QUESTIONS, st.data())
def test_adding_a_consent_never_narrows(facts: CaseFacts, question: tuple,
                                        data: st.DataObject) -> None:  # type: ignore[type-arg]
    assert facts.consent is not None
    extra = data.draw(consents(tuple(a.id for a in facts.consent.adults), 99))
    after = with_consents(facts, (*facts.consent.consents, extra))
    if allowed(question[0], question[1], facts, question[2], question[3]):
        assert allowed(question[0], question[1], after, question[2], question[3])


@SETTINGS
@given(worlds(), st.sampled_from(OUTSIDERS), st.sampled_from(ACTIONS),
       st.frozensets(st.sampled_from(CATEGORIES), min_size=1), st.booleans())
def test_an_outsider_never_gets_anything(facts: CaseFacts, outsider: Actor, action: Action,
                                         categories: frozenset[str], shared: bool) -> None:
    # Even with a consent naming them and a break-glass grant of their own.
    assert facts.consent is not None
    named = Consent(by=CHILD, categories=frozenset(CATEGORIES),
                    recipients=frozenset({f"person:{outsider.person_id}",
                                          *(f"org:{o}" for o in outsider.organisation_ids)}),
                    valid_from=ON - timedelta(days=1))
    facts = replace(with_consents(facts, (*facts.consent.consents, named)),
                    break_glass=(grant(outsider),))
    decision = decide(outsider, action, facts, item(*sorted(categories), shared=shared))
    assert not decision.allowed


# Grounds only ever matter for reading items: ask that most of the time.
READS = st.tuples(st.sampled_from(READERS), st.sampled_from((Action.ITEM_READ, Action.FAMILY_VIEW)),
                  st.frozensets(st.sampled_from(CATEGORIES), min_size=1), st.booleans())


def with_grounds(facts: CaseFacts, changed: tuple[ScopedGround, ...]) -> CaseFacts:
    assert facts.consent is not None
    return replace(facts, consent=replace(facts.consent, grounds=changed))


def identities(actor: Actor) -> frozenset[str]:
    """Every recipient that could name ``actor`` (a superset of what the policy uses)."""
    return frozenset({f"person:{actor.person_id}", f"adult:{actor.person_id}",
                      *(f"org:{o}" for o, _ in actor.memberships),
                      *(f"role:{r.value}" for _, r in actor.memberships)})


def in_scope(ground: ScopedGround, actor: Actor, categories: frozenset[str]) -> bool:
    return bool(ground.recipients & identities(actor)) and any(
        ground.covers(ON, category, recipient)
        for category in categories for recipient in ground.recipients)


@SETTINGS
@given(worlds(), READS)
def test_outside_its_scope_a_ground_allows_no_more_than_consent(
        facts: CaseFacts, question: tuple) -> None:  # type: ignore[type-arg]
    reader, action, categories, shared = question
    assert facts.consent is not None
    assume(not any(in_scope(g, reader, categories) for g in facts.consent.grounds))
    if allowed(reader, action, facts, categories, shared):
        assert allowed(reader, action, with_grounds(facts, ()), categories, shared)


@SETTINGS
@given(worlds(), READS, st.data())
def test_ending_a_ground_never_widens(facts: CaseFacts, question: tuple,
                                      data: st.DataObject) -> None:  # type: ignore[type-arg]
    assert facts.consent is not None
    assume(facts.consent.grounds)
    index = data.draw(st.integers(0, len(facts.consent.grounds) - 1))
    changed = list(facts.consent.grounds)
    changed[index] = replace(changed[index], ended_on=data.draw(
        st.dates(ON - timedelta(days=30), ON)))
    after = with_grounds(facts, tuple(changed))
    if allowed(question[0], question[1], after, question[2], question[3]):
        assert allowed(question[0], question[1], facts, question[2], question[3])


@SETTINGS
@given(worlds(), READS, st.data())
def test_invoking_a_ground_never_narrows(facts: CaseFacts, question: tuple,
                                         data: st.DataObject) -> None:  # type: ignore[type-arg]
    assert facts.consent is not None
    after = with_grounds(facts, (*facts.consent.grounds, data.draw(grounds(99))))
    if allowed(question[0], question[1], facts, question[2], question[3]):
        assert allowed(question[0], question[1], after, question[2], question[3])
