"""Invariants of the policy over generated cases (hypothesis).

Withdrawing or expiring a consent never widens access; adding a consent never
narrows it; an outsider (a professional outside the case, an unrelated citizen,
the DPO, the administrator) never gets anything, whatever the facts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from portal.cases.models import LegalBasis
from portal.consent.engine import CHILD, Adult, Consent, OrganisationRule, Setting
from portal.policy import CASE_ACTIONS, FAMILY_ACTIONS, Action, Actor, CaseFacts, decide
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
