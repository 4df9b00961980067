"""The scenario table, through the policy: who reads an item of which category.

Every age band and both sides of the 12th and 16th birthday, every custody
situation, each legal ground, scope mismatch by category and by recipient,
expiry, withdrawal and the one-parent rule. Each row goes through
``portal.policy.decide`` (and so the consent engine), as the portal asks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from portal.cases.models import LegalBasis
from portal.consent.engine import OrganisationRule, Setting
from portal.policy import Action, Actor, Allow, CaseFacts, Deny, decide
from tests.policy._world import (
    IB,
    MENTOR,
    NOTULIST,
    ON,
    SCHOOL,
    TWO_PARENTS,
    WORKER,
    YOUTH,
    adult,
    born,
    case,
    consent,
    facts_parent,
    ground,
    item,
    parent,
)

BOTH = (consent("mother"), consent("father"))
BOTH_ALL_ORGS = (consent("mother", recipients=(f"org:{SCHOOL}", f"org:{YOUTH}")),
                 consent("father", recipients=(f"org:{SCHOOL}", f"org:{YOUTH}")))
CHILD_CONSENT = consent("child", recipients=(f"org:{SCHOOL}", f"org:{YOUTH}"))


@dataclass(frozen=True)
class Row:
    name: str
    facts: CaseFacts
    allowed: bool
    reason: str = ""  # the Deny reason, or a piece of the Allow basis
    reader: Actor = MENTOR
    categories: tuple[str, ...] = ("behaviour",)
    tags: tuple[str, ...] = field(default=())


def boundary(age: int, days: int) -> date:
    return born(age, days=days)


ROWS = [
    # -- age bands and the birthday boundaries --------------------------------
    Row("under 12: both parents with custody consented", case(birthdate=born(8), consents=BOTH,
        adults=TWO_PARENTS), True, "consent:c-father-behaviour,c-mother-behaviour"),
    Row("under 12: one of two parents is not enough", case(birthdate=born(8),
        consents=BOTH[:1], adults=TWO_PARENTS), False, "consent_missing"),
    Row("day before the 12th birthday, youth care: the parents suffice",
        case(birthdate=born(11, days=364), setting=Setting.YOUTH_CARE, adults=TWO_PARENTS,
             consents=BOTH_ALL_ORGS), True, "consent:", reader=WORKER),
    Row("on the 12th birthday, youth care: the child must consent too",
        case(birthdate=born(12), setting=Setting.YOUTH_CARE, adults=TWO_PARENTS,
             consents=BOTH_ALL_ORGS), False, "consent_missing", reader=WORKER),
    Row("on the 12th birthday, youth care: parents and child consented",
        case(birthdate=born(12), setting=Setting.YOUTH_CARE, adults=TWO_PARENTS,
             consents=(*BOTH_ALL_ORGS, CHILD_CONSENT)), True, "consent:", reader=WORKER),
    Row("13 in a school-only case: the child's view is no veto", case(
        birthdate=born(13), adults=TWO_PARENTS, consents=BOTH), True, "consent:"),
    Row("day before the 16th birthday: the parents still decide",
        case(birthdate=born(15, days=364), adults=TWO_PARENTS, consents=BOTH), True,
        "consent:"),
    Row("on the 16th birthday: the parents' consents no longer count",
        case(birthdate=born(16), adults=TWO_PARENTS, consents=BOTH), False, "consent_missing"),
    Row("on the 16th birthday: the young person alone consents",
        case(birthdate=born(16), adults=TWO_PARENTS, consents=(CHILD_CONSENT,)), True,
        "consent:c-child-behaviour"),
    Row("17 in youth care: the young person alone", case(birthdate=born(17),
        setting=Setting.YOUTH_CARE, consents=(CHILD_CONSENT,)), True, "consent:",
        reader=WORKER),
    # -- custody -------------------------------------------------------------
    Row("married: both parents must consent", case(adults=(
        facts_parent("mother", "married"), facts_parent("father", "married")),
        consents=BOTH[:1]), False, "consent_missing"),
    Row("registered partners: both", case(adults=(
        facts_parent("mother", "registered_partnership"),
        facts_parent("father", "registered_partnership")), consents=BOTH), True, "consent:"),
    Row("unmarried, recognition only: the mother alone", case(adults=(
        facts_parent("mother", "unmarried", is_mother=True),
        facts_parent("father", "unmarried", is_mother=False)), consents=BOTH[:1]),
        True, "consent:c-mother-behaviour"),
    Row("unmarried, custody applied for: the father too", case(adults=(
        facts_parent("mother", "unmarried", is_mother=True),
        facts_parent("father", "unmarried", is_mother=False, custody_applied=True)),
        consents=BOTH[:1]), False, "consent_missing"),
    Row("divorced: both keep custody", case(adults=(
        facts_parent("mother", "divorced"), facts_parent("father", "divorced")),
        consents=BOTH[1:]), False, "consent_missing"),
    Row("divorced, court gave the mother sole custody", case(adults=(
        facts_parent("mother", "divorced"), facts_parent("father", "divorced",
                                                         court_custody=False)),
        consents=BOTH[:1]), True, "consent:c-mother-behaviour"),
    Row("single parent as registered", case(adults=(
        facts_parent("mother", "single", court_custody=True),), consents=BOTH[:1]), True,
        "consent:"),
    Row("a guardian consents like a parent", case(adults=(adult("voogd", "guardian"),),
        consents=(consent("voogd"),)), True, "consent:c-voogd-behaviour"),
    Row("a foster parent's consent does not count", case(adults=(
        adult("foster", "foster_parent"),), consents=(consent("foster"),)), False,
        "no_custodian"),
    Row("a youth protector (OTS) has no custody", case(adults=(
        parent("mother"), adult("protector", "youth_protector_ots")), consents=(
        consent("protector"),)), False, "consent_missing"),
    Row("a parent without custody is not asked", case(adults=(
        parent("mother"), parent("father", custody=False)), consents=BOTH[:1]), True,
        "consent:c-mother-behaviour"),
    # -- scope -----------------------------------------------------------------
    Row("category not covered", case(adults=TWO_PARENTS, consents=BOTH), False,
        "consent_scope_category", categories=("health",)),
    Row("every category of an item must be covered", case(adults=TWO_PARENTS,
        consents=BOTH), False, "consent_scope_category", categories=("behaviour", "health")),
    Row("recipient not covered: the youth-care worker's organisation",
        case(adults=TWO_PARENTS, consents=BOTH, setting=Setting.YOUTH_CARE,
             birthdate=born(10)), False, "consent_scope_recipient", reader=WORKER),
    Row("recipient by role", case(adults=TWO_PARENTS, setting=Setting.YOUTH_CARE,
        birthdate=born(10), consents=(consent("mother", recipients=("role:youth_care_worker",)),
                                      consent("father", recipients=("role:youth_care_worker",)))),
        True, "consent:", reader=WORKER),
    Row("a role recipient does not cover another role", case(adults=TWO_PARENTS,
        consents=(consent("mother", recipients=("role:youth_care_worker",)),
                  consent("father", recipients=("role:youth_care_worker",)))),
        False, "consent_scope_recipient"),
    Row("one parent names the organisation, the other the role", case(
        adults=TWO_PARENTS, consents=(consent("mother", recipients=(f"org:{SCHOOL}",)),
                                      consent("father", recipients=("role:mentor",)))),
        True, "consent:"),
    # -- validity --------------------------------------------------------------
    Row("expired yesterday", case(adults=TWO_PARENTS, consents=(
        consent("mother", valid_until=ON - timedelta(days=1)), consent("father"))), False,
        "consent_expired"),
    Row("valid through today", case(adults=TWO_PARENTS, consents=(
        consent("mother", valid_until=ON), consent("father"))), True, "consent:"),
    Row("not yet valid", case(adults=TWO_PARENTS, consents=(
        consent("mother", valid_from=ON + timedelta(days=1)), consent("father"))), False,
        "consent_not_yet_valid"),
    Row("withdrawn today: refused from this request on", case(adults=TWO_PARENTS, consents=(
        consent("mother", withdrawn_on=ON), consent("father"))), False, "consent_withdrawn"),
    Row("withdrawn tomorrow (not yet)", case(adults=TWO_PARENTS, consents=(
        consent("mother", withdrawn_on=ON + timedelta(days=1)), consent("father"))), True,
        "consent:"),
    # -- the organisation's one-parent rule ------------------------------------
    Row("one parent suffices where the school configured it", case(adults=TWO_PARENTS,
        consents=BOTH[:1], rule=OrganisationRule.ONE_CUSTODIAN), True,
        "consent:c-mother-behaviour"),
    Row("never in youth care", case(adults=TWO_PARENTS, consents=BOTH_ALL_ORGS[:1],
        rule=OrganisationRule.ONE_CUSTODIAN, setting=Setting.YOUTH_CARE,
        birthdate=born(10)), False, "consent_missing", reader=WORKER),
]

# A legal ground is a disclosure basis with a scope (issue 12, finding 1): here
# the care coordinator (IB, role:care_coordinator) is its recipient for health.
GROUNDS = [
    (LegalBasis.MELDRECHT_VEILIG_THUIS, "duty:inform"),
    (LegalBasis.VERWIJSINDEX, "duty:inform"),
    (LegalBasis.RAAD_KINDERBESCHERMING, "duty:inform"),
    (LegalBasis.TLV_OR_EXTRA_SUPPORT, "duty:inform"),
    (LegalBasis.LEGAL_OBLIGATION, "ground:legal_obligation"),
    (LegalBasis.VITAL_INTEREST, "duty:document_and_notify_dpo"),
]


def scoped(basis: LegalBasis) -> CaseFacts:
    return case(adults=TWO_PARENTS, grounds=(ground(basis.value, "role:care_coordinator"),))


ROWS += [Row(f"legal ground {basis.value} within its scope", scoped(basis), True,
             f"ground:{basis.value}", categories=("health",), reader=IB)
         for basis, _ in GROUNDS]
ROWS += [Row(f"legal ground {basis.value}: the mentor is outside its scope", scoped(basis),
             False, "consent_missing", categories=("health",)) for basis, _ in GROUNDS]
ROWS += [Row(f"legal ground {basis.value}: a category outside its scope", scoped(basis),
             False, "consent_missing", categories=("health", "family_situation"), reader=IB)
         for basis, _ in GROUNDS]
ROWS += [
    Row("an unscoped case ground opens nothing (the mentor's read, issue 12)",
        case(basis=LegalBasis.MELDRECHT_VEILIG_THUIS, adults=TWO_PARENTS), False,
        "consent_missing", categories=("health", "family_situation")),
    Row("the minute-taker is outside the TLV ground's scope",
        scoped(LegalBasis.TLV_OR_EXTRA_SUPPORT), False, "consent_missing",
        reader=NOTULIST, categories=("health",)),
    Row("an ended ground covers nothing from its end", case(adults=TWO_PARENTS, grounds=(
        ground("vital_interest", "role:care_coordinator", ended_on=ON),)), False,
        "consent_missing", reader=IB, categories=("health",)),
    Row("a ground not yet in force covers nothing", case(adults=TWO_PARENTS, grounds=(
        ground("vital_interest", "role:care_coordinator", valid_from=date(2026, 12, 1)),)),
        False, "consent_missing", reader=IB, categories=("health",)),
    Row("a ground past its end date covers nothing", case(adults=TWO_PARENTS, grounds=(
        ground("vital_interest", "role:care_coordinator", valid_until=date(2026, 11, 27)),)),
        False, "consent_missing", reader=IB, categories=("health",)),
    Row("inside the scope on consent for the rest: both named",
        case(adults=TWO_PARENTS, consents=BOTH, grounds=(
            ground("tlv_or_extra_support", "role:care_coordinator"),)), True,
        "scoped:g-1", reader=IB, categories=("behaviour", "health")),
    Row("meldrecht in youth care: the care provider must still try to get consent",
        case(setting=Setting.YOUTH_CARE, adults=TWO_PARENTS, grounds=(
            ground("meldrecht_veilig_thuis", f"org:{YOUTH}"),)),
        True, "duty:try_to_obtain_consent", reader=WORKER, categories=("health",)),
    Row("OTS with a youth protector on the case", case(adults=(
        parent("mother"), adult("protector", "youth_protector_ots")), grounds=(
            ground("ots", "role:care_coordinator"),)), True, "ground:ots", reader=IB,
        categories=("health",)),
    Row("OTS without a youth protector: decided on consent", case(
        adults=TWO_PARENTS, grounds=(ground("ots", "role:care_coordinator"),)), False,
        "consent_missing", reader=IB, categories=("health",)),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_scenario(row: Row) -> None:
    decision = decide(row.reader, Action.ITEM_READ, row.facts, item(*row.categories))
    assert decision.allowed is row.allowed, decision
    if isinstance(decision, Allow):
        assert row.reason in decision.basis
        case_role = row.facts.participants[row.reader.person_id]
        assert decision.basis.startswith(f"participant:{case_role.value};")
    else:
        assert isinstance(decision, Deny)
        assert decision.reason == row.reason
        assert not decision.hide


@pytest.mark.parametrize(("basis", "duty"), GROUNDS, ids=lambda x: str(x))
def test_a_legal_ground_names_itself_and_its_duty(basis: LegalBasis, duty: str) -> None:
    facts = case(grounds=(ground(basis.value, "role:care_coordinator",
                                 categories=("health", "behaviour")),))
    decision = decide(IB, Action.ITEM_READ, facts, item("health", "behaviour"))
    assert isinstance(decision, Allow)
    assert decision.legal_ground == basis.value and duty in decision.basis
    assert decision.consent_ids == ()


def test_the_allow_names_the_consents_used() -> None:
    facts = case(adults=TWO_PARENTS, consents=(consent("mother", ("behaviour", "health")),
                                               consent("father", ("behaviour", "health"))))
    decision = decide(MENTOR, Action.ITEM_READ, facts, item("behaviour", "health"))
    assert isinstance(decision, Allow)
    assert decision.consent_ids == ("c-father-behaviour-health", "c-mother-behaviour-health")


def test_a_refusal_explains_itself() -> None:
    facts = case(adults=TWO_PARENTS, consents=(consent("mother"),))
    decision = decide(MENTOR, Action.ITEM_READ, facts, item("behaviour"))
    assert isinstance(decision, Deny)
    assert "person-father" in decision.detail and "no consent" in decision.detail
