"""Rule data of the consent engine: enums and tables (see engine.py for the semantics)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

CHILD = "child"
DEFAULT_CATEGORIES: frozenset[str] = frozenset(
    {"school_progress", "behaviour", "social_emotional", "health", "family_situation", "other"}
)
RECIPIENT_RE = re.compile(r"^(org|role|person|adult):[A-Za-z0-9][A-Za-z0-9_.@-]*$")
CONSENT_CHANGE_AGES: tuple[int, ...] = (12, 16)


class ConsentInputError(ValueError):
    """Inconsistent engine input; ``path`` names the offending field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class Setting(StrEnum):
    SCHOOL = "school"
    YOUTH_CARE = "youth_care"


class Basis(StrEnum):
    CONSENT = "consent"
    MELDRECHT_VEILIG_THUIS = "meldrecht_veilig_thuis"
    VERWIJSINDEX = "verwijsindex"
    RAAD_KINDERBESCHERMING = "raad_kinderbescherming"
    TLV_OR_EXTRA_SUPPORT = "tlv_or_extra_support"
    OTS = "ots"
    LEGAL_OBLIGATION = "legal_obligation"
    SAFETY_EXCEPTION = "safety_exception"
    VITAL_INTEREST = "vital_interest"


class Relation(StrEnum):
    PARENT = "parent"
    GUARDIAN = "guardian"
    FOSTER_PARENT = "foster_parent"
    YOUTH_PROTECTOR_OTS = "youth_protector_ots"


class Relationship(StrEnum):
    MARRIED = "married"
    REGISTERED_PARTNERSHIP = "registered_partnership"
    UNMARRIED = "unmarried"
    DIVORCED = "divorced"
    SINGLE = "single"


class CustodyEvidence(StrEnum):
    GEZAGSREGISTER = "gezagsregister"
    BRP = "brp"
    PARENT_STATEMENT = "parent_statement"


class OrganisationRule(StrEnum):
    EVERY_CUSTODIAN = "every_custodian"
    ONE_CUSTODIAN = "one_custodian"


class RuleUsed(StrEnum):
    EVERY_CUSTODIAN = "every_custodian"
    ONE_CUSTODIAN = "one_custodian"
    YOUNG_PERSON = "young_person"


class InformationRight(StrEnum):
    GENERAL = "general"
    NONE = "none"
    INFORMATION = "information"
    CONSENTED = "consented"


class Duty(StrEnum):
    TRY_TO_OBTAIN_CONSENT = "try_to_obtain_consent"
    INFORM = "inform"
    DOCUMENT_AND_NOTIFY_DPO = "document_and_notify_dpo"


class ConsenterStatus(StrEnum):
    """Per consenter, the best result over their consents (declaration order = rank)."""

    OK = "ok"
    RECIPIENT_MISMATCH = "recipient_mismatch"
    CATEGORY_MISMATCH = "category_mismatch"
    PURPOSE_MISMATCH = "purpose_mismatch"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    NO_CONSENT = "no_consent"


class ReasonCode(StrEnum):
    CONSENT_COMPLETE = "consent_complete"
    CONSENT_MISSING = "consent_missing"
    CONSENT_SCOPE_MISMATCH = "consent_scope_mismatch"
    CONSENT_MISSING_AND_SCOPE_MISMATCH = "consent_missing_and_scope_mismatch"
    NO_CUSTODIAN = "no_custodian"
    LEGAL_GROUND = "legal_ground"


class AgeBand(StrEnum):
    UNDER_12 = "under_12"
    FROM_12_TO_16 = "12_to_16"
    FROM_16 = "16_plus"


SCOPE_STATUSES = frozenset({ConsenterStatus.RECIPIENT_MISMATCH, ConsenterStatus.CATEGORY_MISMATCH})
STATUS_RANK = {status: rank for rank, status in enumerate(ConsenterStatus)}


# --- rule tables ------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentRequirement:
    custodians: bool  # every adult with custody (or one, where allowed) must consent
    child: bool  # the child/young person must consent
    child_view: bool  # the child's view is part of the decision
    one_custodian_allowed: bool  # the organisation's "one adult suffices" rule may apply


AGE_BANDS: tuple[tuple[int, AgeBand], ...] = (
    (16, AgeBand.FROM_16),
    (12, AgeBand.FROM_12_TO_16),
    (0, AgeBand.UNDER_12),
)

CONSENT_MATRIX: Mapping[tuple[AgeBand, Setting], ConsentRequirement] = {
    (AgeBand.UNDER_12, Setting.SCHOOL): ConsentRequirement(True, False, False, True),
    (AgeBand.UNDER_12, Setting.YOUTH_CARE): ConsentRequirement(True, False, False, False),
    (AgeBand.FROM_12_TO_16, Setting.SCHOOL): ConsentRequirement(True, False, True, True),
    (AgeBand.FROM_12_TO_16, Setting.YOUTH_CARE): ConsentRequirement(True, True, True, False),
    (AgeBand.FROM_16, Setting.SCHOOL): ConsentRequirement(False, True, True, False),
    (AgeBand.FROM_16, Setting.YOUTH_CARE): ConsentRequirement(False, True, True, False),
}


@dataclass(frozen=True)
class RelationRule:
    custody_by_law: bool | None  # None: decided per adult (explicit flag or facts)
    info_without_custody: InformationRight
    info_by_consent: bool  # becomes CONSENTED when the consenters agreed
    facts_apply: bool  # custody_facts may be given


RELATION_RULES: Mapping[Relation, RelationRule] = {
    Relation.PARENT: RelationRule(None, InformationRight.GENERAL, False, True),
    Relation.GUARDIAN: RelationRule(True, InformationRight.GENERAL, False, False),
    Relation.FOSTER_PARENT: RelationRule(False, InformationRight.NONE, True, False),
    Relation.YOUTH_PROTECTOR_OTS: RelationRule(False, InformationRight.INFORMATION, False, False),
}

# Default custody of a parent per relationship, before a court decision; None = other facts.
RELATIONSHIP_CUSTODY: Mapping[Relationship, bool | None] = {
    Relationship.MARRIED: True,
    Relationship.REGISTERED_PARTNERSHIP: True,
    Relationship.DIVORCED: True,
    Relationship.UNMARRIED: None,  # mother automatically; father only after application
    Relationship.SINGLE: None,  # as registered: court_custody (or explicit custody)
}


@dataclass(frozen=True)
class GroundRule:
    description: str
    duty_school: Duty | None
    duty_youth_care: Duty | None
    needs_youth_protector: bool = False


_MELDRECHT = (Duty.INFORM, Duty.TRY_TO_OBTAIN_CONSENT)
_SAFETY = (Duty.DOCUMENT_AND_NOTIFY_DPO, Duty.DOCUMENT_AND_NOTIFY_DPO)
LEGAL_GROUNDS: Mapping[Basis, GroundRule] = {
    Basis.MELDRECHT_VEILIG_THUIS: GroundRule("meldrecht Veilig Thuis", *_MELDRECHT),
    Basis.VERWIJSINDEX: GroundRule("meldrecht Verwijsindex", *_MELDRECHT),
    Basis.RAAD_KINDERBESCHERMING: GroundRule(
        "meldrecht Raad voor de Kinderbescherming", *_MELDRECHT
    ),
    Basis.TLV_OR_EXTRA_SUPPORT: GroundRule(
        "school requesting extra support or a TLV", Duty.INFORM, Duty.INFORM
    ),
    Basis.OTS: GroundRule("youth protector carrying out an OTS", *_MELDRECHT, True),
    Basis.LEGAL_OBLIGATION: GroundRule("legal obligation", None, None),
    Basis.SAFETY_EXCEPTION: GroundRule("serious concerns about the child's safety", *_SAFETY),
    Basis.VITAL_INTEREST: GroundRule("vital interest (safety exception)", *_SAFETY),
}

DUTY_TEXT: Mapping[Duty, str] = {
    Duty.TRY_TO_OBTAIN_CONSENT: "Hulpverleners moeten wel proberen toestemming te krijgen "
    "(care providers must still try to obtain consent).",
    Duty.INFORM: "Informeer de ouders/jeugdige (inform the parents or young person).",
    Duty.DOCUMENT_AND_NOTIFY_DPO: "Goed documenteren en de FG informeren "
    "(document the decision well and notify the DPO).",
}

STATUS_TEXT: Mapping[ConsenterStatus, str] = {
    ConsenterStatus.OK: "consent covers the request",
    ConsenterStatus.RECIPIENT_MISMATCH: "recipient {recipient!r} not included",
    ConsenterStatus.CATEGORY_MISMATCH: "category {category!r} not included",
    ConsenterStatus.PURPOSE_MISMATCH: "consent was given for another purpose",
    ConsenterStatus.WITHDRAWN: "consent was withdrawn",
    ConsenterStatus.EXPIRED: "consent has expired",
    ConsenterStatus.NOT_YET_VALID: "consent is not yet valid",
    ConsenterStatus.NO_CONSENT: "no consent",
}
