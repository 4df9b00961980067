"""Consent in the MDO Portal: who must consent, custody, legal grounds, and their use.

Pure: the engine (``decide`` in :mod:`portal.consent.engine`, tables in ``rules``,
inputs in ``model``), the JSON scenarios of ``portal consent check``
(:mod:`portal.consent.scenario`), the policy's consent side (``access``), the
drawn status (``status``) and the identifier check (``identifiers``).

With the database: consent records and the other tables (``models``), loading
the facts for the policy (``facts``), giving, recording and withdrawing consent
(``service``), the safety exception and the DPO's review (``breakglass``),
anonymous cases (``anonymous``, ``conversion``) and the professionals' pages
(``routes``). The parent view lives in :mod:`portal.parents`.
"""

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
    CustodyEvidence,
    CustodyFacts,
    Duty,
    InformationRight,
    OrganisationRule,
    ReasonCode,
    Relation,
    Relationship,
    Request,
    RuleUsed,
    Setting,
    age_on,
    consent_warning,
    decide,
    next_consent_change,
)
from portal.consent.scenario import ScenarioError, evaluate_json, main

__all__ = [
    "CHILD",
    "DEFAULT_CATEGORIES",
    "Adult",
    "Basis",
    "Child",
    "Consent",
    "ConsentCase",
    "ConsentDecision",
    "ConsentInputError",
    "ConsenterStatus",
    "CustodyEvidence",
    "CustodyFacts",
    "Duty",
    "InformationRight",
    "OrganisationRule",
    "ReasonCode",
    "Relation",
    "Relationship",
    "Request",
    "RuleUsed",
    "ScenarioError",
    "Setting",
    "age_on",
    "consent_warning",
    "decide",
    "evaluate_json",
    "main",
    "next_consent_change",
]
