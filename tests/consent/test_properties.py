"""Hypothesis properties of the consent engine (monotonicity, scope, 16+)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.consent.engine import (
    CHILD,
    Adult,
    Basis,
    Child,
    Consent,
    ConsentCase,
    ConsentDecision,
    CustodyFacts,
    InformationRight,
    OrganisationRule,
    Relation,
    Relationship,
    Request,
    Setting,
    age_on,
    birthday_in_year,
    decide,
)
from portal.consent.model import ScopedGround
from portal.consent.rules import LEGAL_GROUNDS

SETTINGS = settings(database=None, deadline=None, max_examples=150)
CATEGORIES = ("health", "behaviour", "school_progress")  # "other" is never consented to
RECIPIENTS = ("org:a", "org:b", "role:youth_care_worker")  # "org:never" likewise
PURPOSES = st.none() | st.sampled_from(["p1", "p2"])
DAYS = st.dates(date(2024, 1, 1), date(2028, 12, 31))
ANY_BASIS = st.sampled_from(Basis)
BIRTHS = st.dates(date(2008, 1, 1), date(2020, 12, 31))  # ages 5 to 20 on the request dates
REQUEST_CATEGORIES = st.sampled_from((*CATEGORIES, "other"))
REQUEST_RECIPIENTS = st.sampled_from((*RECIPIENTS, "org:never"))


@st.composite
def adults(draw: st.DrawFn) -> tuple[Adult, ...]:
    result = []
    for i in range(draw(st.integers(0, 4))):
        relation = draw(st.sampled_from(Relation))
        if relation is not Relation.PARENT:
            result.append(Adult(f"P{i}", relation))
        elif draw(st.booleans()):
            result.append(Adult(f"P{i}", relation, custody=draw(st.booleans())))
        else:
            relationship = draw(st.sampled_from(Relationship))
            court = (
                st.booleans() if relationship is Relationship.SINGLE else st.none() | st.booleans()
            )
            facts = CustodyFacts(
                relationship, draw(st.booleans()), draw(st.booleans()), draw(court)
            )
            result.append(Adult(f"P{i}", relation, custody_facts=facts))
    return tuple(result)


@st.composite
def consent(draw: st.DrawFn, ids: tuple[str, ...], index: int) -> Consent:
    start = draw(DAYS)
    until = draw(st.none() | st.dates(start, date(2029, 12, 31)))
    recipients = RECIPIENTS + tuple(f"adult:{i}" for i in ids)
    return Consent(
        by=draw(st.sampled_from((*ids, CHILD))),
        categories=frozenset(draw(st.lists(st.sampled_from(CATEGORIES), min_size=1))),
        recipients=frozenset(draw(st.lists(st.sampled_from(recipients), min_size=1))),
        valid_from=start,
        valid_until=until,
        withdrawn_on=draw(st.none() | DAYS),
        id=f"c{index}",
        purpose=draw(PURPOSES),
    )


@st.composite
def cases(
    draw: st.DrawFn,
    basis: st.SearchStrategy[Basis] = ANY_BASIS,
    born: st.SearchStrategy[date] = BIRTHS,
    category: st.SearchStrategy[str] = REQUEST_CATEGORIES,
    recipient: st.SearchStrategy[str] = REQUEST_RECIPIENTS,
) -> ConsentCase:
    people = draw(adults())
    ids = tuple(a.id for a in people)
    consents = tuple(draw(consent(ids, i)) for i in range(draw(st.integers(0, 6))))
    return ConsentCase(
        on=draw(st.dates(date(2026, 1, 1), date(2028, 12, 31))),
        child=Child(draw(born)),
        setting=draw(st.sampled_from(Setting)),
        basis=draw(basis),
        adults=people,
        consents=consents,
        request=Request(draw(category), draw(recipient)),
        organisation_rule=draw(st.sampled_from(OrganisationRule)),
        case_purpose=draw(PURPOSES),
    )


def _access(d: ConsentDecision) -> tuple[bool, frozenset[str]]:
    consented = frozenset(
        k for k, v in d.information_rights.items() if v is InformationRight.CONSENTED
    )
    return d.allowed, consented


def _not_wider(after: ConsentDecision, before: ConsentDecision) -> bool:
    (allowed_after, info_after), (allowed_before, info_before) = _access(after), _access(before)
    return (allowed_before or not allowed_after) and info_after <= info_before


def _replace(case: ConsentCase, index: int, new: Consent) -> ConsentCase:
    consents = (*case.consents[:index], new, *case.consents[index + 1 :])
    return dataclasses.replace(case, consents=consents)


@SETTINGS
@given(cases(), st.data())
def test_withdrawing_never_widens_access(case: ConsentCase, data: st.DataObject) -> None:
    if not case.consents:
        return
    index = data.draw(st.integers(0, len(case.consents) - 1))
    old = case.consents[index]
    day = data.draw(DAYS)
    withdrawn = day if old.withdrawn_on is None else min(day, old.withdrawn_on)
    after = _replace(case, index, dataclasses.replace(old, withdrawn_on=withdrawn))
    assert _not_wider(decide(after), decide(case))


@SETTINGS
@given(cases(), st.data())
def test_expiring_never_widens_access(case: ConsentCase, data: st.DataObject) -> None:
    if not case.consents:
        return
    index = data.draw(st.integers(0, len(case.consents) - 1))
    old = case.consents[index]
    day = data.draw(st.dates(old.valid_from, date(2029, 12, 31)))
    until = day if old.valid_until is None else min(day, old.valid_until)
    after = _replace(case, index, dataclasses.replace(old, valid_until=until))
    assert _not_wider(decide(after), decide(case))


@SETTINGS
@given(cases(), st.data())
def test_adding_a_consent_never_narrows_access(case: ConsentCase, data: st.DataObject) -> None:
    extra = data.draw(consent(tuple(a.id for a in case.adults), len(case.consents)))
    after = dataclasses.replace(case, consents=(*case.consents, extra))
    assert _not_wider(decide(case), decide(after))


@SETTINGS
@given(
    st.one_of(
        cases(basis=st.just(Basis.CONSENT), category=st.just("other")),
        cases(basis=st.just(Basis.CONSENT), recipient=st.just("org:never")),
    )
)
def test_unconsented_scope_is_never_allowed_on_consent(case: ConsentCase) -> None:
    d = decide(case)
    assert not d.allowed
    assert d.consents_used == ()


@SETTINGS
@given(cases(born=st.dates(date(2000, 1, 1), date(2009, 12, 31))))
def test_from_16_adults_consents_are_irrelevant(case: ConsentCase) -> None:
    assert age_on(case.child.birthdate, case.on) >= 16
    only_child = tuple(c for c in case.consents if c.by == CHILD)
    assert decide(case) == decide(dataclasses.replace(case, consents=only_child))


@SETTINGS
@given(cases(basis=st.sampled_from(list(LEGAL_GROUNDS))))
def test_legal_grounds_allow_without_consent(case: ConsentCase) -> None:
    d = decide(case)
    needs_protector = case.basis is Basis.OTS and not any(
        a.relation is Relation.YOUTH_PROTECTOR_OTS for a in case.adults
    )
    if not needs_protector:
        assert (d.allowed, d.consent_required) == (True, False)


@SETTINGS
@given(cases())
def test_decision_invariants(case: ConsentCase) -> None:
    d = decide(case)
    required = set(d.required_consenters)
    assert set(d.missing) | set(d.scope_mismatch) <= required
    assert not set(d.missing) & set(d.scope_mismatch)
    assert set(d.custody) == {a.id for a in case.adults}
    assert set(d.information_rights) == {i for i, has in d.custody.items() if not has}
    assert d.complete is d.allowed
    if d.consent_required and d.allowed:
        assert not d.missing
        assert not d.scope_mismatch
        assert d.consents_used
    if d.consent_required and d.rule_used == "every_custodian" and d.allowed:
        assert all(d.consenter_status[c].value == "ok" for c in required)


@SETTINGS
@given(st.dates(date(1990, 1, 1), date(2090, 12, 31)), st.integers(1, 30))
def test_age_turns_on_the_birthday(born: date, years: int) -> None:
    birthday = birthday_in_year(born, born.year + years)
    assert age_on(born, birthday) == years
    assert age_on(born, birthday - timedelta(days=1)) == years - 1


@st.composite
def scoped_ground(draw: st.DrawFn, index: int) -> ScopedGround:
    start = draw(DAYS)
    return ScopedGround(
        basis=draw(st.sampled_from([b for b in Basis if b is not Basis.CONSENT])),
        recipients=frozenset(draw(st.lists(st.sampled_from(RECIPIENTS), min_size=1))),
        categories=frozenset(draw(st.lists(st.sampled_from(CATEGORIES), min_size=1))),
        valid_from=start,
        valid_until=draw(st.none() | st.dates(start, date(2029, 12, 31))),
        ended_on=draw(st.none() | DAYS),
        id=f"g{index}",
    )


@SETTINGS
@given(cases(basis=st.just(Basis.CONSENT)), st.data())
def test_outside_every_scope_the_decision_is_consents(case: ConsentCase,
                                                     data: st.DataObject) -> None:
    grounds = tuple(data.draw(scoped_ground(i)) for i in range(data.draw(st.integers(1, 3))))
    scoped = dataclasses.replace(case, grounds=grounds)
    covered = any(g.covers(case.on, case.request.category, case.request.recipient)
                  for g in grounds)
    with_grounds, without = decide(scoped), decide(case)
    if not covered:
        # Outside every scope a ground changes nothing: consent decides, word for word.
        assert with_grounds == without
        return
    protector = any(a.relation is Relation.YOUTH_PROTECTOR_OTS for a in case.adults)
    counts = [g for g in grounds if g.covers(case.on, case.request.category,
                                             case.request.recipient)
              and (g.basis is not Basis.OTS or protector)]
    assert with_grounds.allowed is (bool(counts) or without.allowed)
    if counts:
        assert with_grounds.grounds_used == (counts[0].id,)
