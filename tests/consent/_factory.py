"""Small builders for consent-engine tests (keeps the tables short)."""

from __future__ import annotations

from datetime import date
from typing import Any

from portal.consent.engine import (
    Adult,
    Basis,
    Child,
    Consent,
    ConsentCase,
    CustodyFacts,
    OrganisationRule,
    Relation,
    Relationship,
    Request,
    Setting,
)

ON = date(2026, 11, 28)
ORG = "org:jeugdteam-noord"
# Turns 12 on 2026-11-28 and 16 on 2030-11-28.
BORN = date(2014, 11, 28)


def parent(adult_id: str, custody: bool | None = True, **kw: Any) -> Adult:
    return Adult(adult_id, Relation.PARENT, custody=custody, **kw)


def facts(relationship: str, **kw: Any) -> CustodyFacts:
    return CustodyFacts(Relationship(relationship), **kw)


def adult(adult_id: str, relation: str, **kw: Any) -> Adult:
    return Adult(adult_id, Relation(relation), **kw)


def consent(
    by: str,
    categories: tuple[str, ...] = ("health",),
    recipients: tuple[str, ...] = (ORG,),
    valid_from: date = date(2026, 1, 1),
    **kw: Any,
) -> Consent:
    return Consent(by, frozenset(categories), frozenset(recipients), valid_from, **kw)


def case(
    *,
    on: date = ON,
    born: date = date(2018, 5, 5),
    setting: str = "school",
    basis: str = "consent",
    adults: tuple[Adult, ...] = (),
    consents: tuple[Consent, ...] = (),
    category: str = "health",
    recipient: str = ORG,
    rule: str = "every_custodian",
    case_purpose: str | None = None,
) -> ConsentCase:
    return ConsentCase(
        on=on,
        child=Child(born),
        setting=Setting(setting),
        basis=Basis(basis),
        adults=adults,
        consents=consents,
        request=Request(category, recipient),
        organisation_rule=OrganisationRule(rule),
        case_purpose=case_purpose,
    )


TWO_PARENTS = (parent("A"), parent("B"))
