"""The consent status of a case, as drawn on the case page and in the parent view.

Pure: from :class:`~portal.consent.access.ConsentFacts` to a grid per recipient
(organisation, role or person) of required consenter × data category, each
cell covered / missing / expired / withdrawn / not yet valid, plus whether the
engine grants the category to that recipient, and the coming change of the
required consenters (the 12th or 16th birthday) when it takes access away.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from portal.consent.access import ConsentFacts, engine_case
from portal.consent.engine import (
    CHILD,
    Basis,
    ConsenterStatus,
    ConsentInputError,
    age_on,
    check_consent,
    consent_warning,
    decide,
)

CATEGORY_ORDER = ("school_progress", "behaviour", "social_emotional", "health",
                  "family_situation", "other")


class Cell(enum.StrEnum):
    COVERED = "covered"
    MISSING = "missing"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    NOT_YET_VALID = "not_yet_valid"


CELL_OF = {
    ConsenterStatus.OK: Cell.COVERED,
    ConsenterStatus.WITHDRAWN: Cell.WITHDRAWN,
    ConsenterStatus.EXPIRED: Cell.EXPIRED,
    ConsenterStatus.NOT_YET_VALID: Cell.NOT_YET_VALID,
}


def ordered_categories(categories: Iterable[str]) -> tuple[str, ...]:
    known = set(categories)
    return tuple(c for c in CATEGORY_ORDER if c in known) + tuple(
        sorted(known - set(CATEGORY_ORDER)))


@dataclass(frozen=True)
class ConsenterRow:
    consenter: str  # an adult's person id, or CHILD
    required: bool  # False: the child's view, recorded and shown, no veto
    cells: tuple[Cell, ...]  # one per category


@dataclass(frozen=True)
class RecipientGrid:
    recipient: str
    rows: tuple[ConsenterRow, ...]
    granted: tuple[bool, ...]  # per category: may this recipient read it


@dataclass(frozen=True)
class ComingChange:
    on: date
    age: int
    lost: tuple[tuple[str, str], ...]  # (category, recipient) granted now, not from then
    new_consenters: tuple[str, ...]


@dataclass(frozen=True)
class ConsentStatus:
    age: int
    consent_required: bool  # False under a legal ground
    legal_ground: str | None
    duty: str | None
    rule_used: str
    required: tuple[str, ...]
    categories: tuple[str, ...]
    grids: tuple[RecipientGrid, ...]
    change: ComingChange | None
    no_custodian: bool


def _cell(facts: ConsentFacts, consenter: str, category: str, recipient: str,
          on: date) -> Cell:
    best: ConsenterStatus = ConsenterStatus.NO_CONSENT
    order = list(ConsenterStatus)
    for consent in facts.consents:
        if consent.by != consenter:
            continue
        status = check_consent(consent, on, None, category, recipient)
        if order.index(status) < order.index(best):
            best = status
    return CELL_OF.get(best, Cell.MISSING)


def _granted(facts: ConsentFacts, basis: Basis, category: str, recipient: str,
             on: date | None = None) -> bool:
    try:
        return decide(engine_case(facts, basis, category, recipient, on=on)).allowed
    except ConsentInputError:
        return False


def _required(facts: ConsentFacts, on: date) -> tuple[tuple[str, ...], bool, bool]:
    """(required consenters, child's view recorded, no custodian) on ``on``."""
    decision = decide(engine_case(facts, Basis.CONSENT, min(facts.categories),
                                  "org:status", on=on))
    return (decision.required_consenters, decision.child_view_recorded,
            decision.reason_code.value == "no_custodian")


def coming_change(facts: ConsentFacts, basis: Basis, recipients: Sequence[str],
                  warning_days: int) -> ComingChange | None:
    """The next 12th/16th birthday within ``warning_days``, if it takes access away."""
    change = consent_warning(facts.birthdate, facts.on, warning_days)
    if change is None:
        return None
    lost = tuple((category, recipient)
                 for recipient in recipients for category in ordered_categories(facts.categories)
                 if _granted(facts, basis, category, recipient)
                 and not _granted(facts, basis, category, recipient, on=change))
    if not lost:
        return None
    now_required = set(_required(facts, facts.on)[0])
    later_required = _required(facts, change)[0]
    return ComingChange(on=change, age=age_on(facts.birthdate, change), lost=lost,
                        new_consenters=tuple(c for c in later_required
                                             if c not in now_required))


def consent_status(facts: ConsentFacts, basis: Basis, recipients: Sequence[str],
                   warning_days: int) -> ConsentStatus:
    categories = ordered_categories(facts.categories)
    required, child_view, no_custodian = _required(facts, facts.on)
    consenters = [(c, True) for c in required]
    if child_view and CHILD not in required:
        consenters.append((CHILD, False))
    grids = tuple(
        RecipientGrid(
            recipient=recipient,
            rows=tuple(ConsenterRow(c, needed, tuple(_cell(facts, c, cat, recipient, facts.on)
                                                     for cat in categories))
                       for c, needed in consenters),
            granted=tuple(_granted(facts, basis, cat, recipient) for cat in categories))
        for recipient in recipients)
    ground = decide(engine_case(facts, basis, categories[0], "org:status"))
    return ConsentStatus(
        age=facts.age, consent_required=ground.consent_required,
        legal_ground=ground.legal_ground.value if ground.legal_ground else None,
        duty=ground.duty.value if ground.duty else None, rule_used=ground.rule_used,
        required=required, categories=categories, grids=grids,
        change=coming_change(facts, basis, recipients, warning_days),
        no_custodian=no_custodian)


def required_consenters(facts: ConsentFacts) -> tuple[str, ...]:
    """Whose consent (adult ids, CHILD) the engine requires today."""
    return _required(facts, facts.on)[0]
