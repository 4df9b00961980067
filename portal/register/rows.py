"""One pupil and the adults around them, checked field by field (pure).

The same checks serve the register's form and every row of an import: a
refusal names the column and says why, as a message id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from portal.errors import N_
from portal.people.models import Relation
from portal.web.text import check_text

MIN_AGE, MAX_AGE = 2, 23
MAX_NAME = 200
MAX_NUMBER = 32
MAX_GROUP = 32
MAX_ADULTS = 4
# Local part and a domain with a dot; the mail server has the last word.
EMAIL = re.compile(r"^[^@\s\"<>,;]+@[^@\s\"<>,;]+\.[A-Za-z]{2,}$")
PUPIL_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
DUTCH_DATE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")

# What a school's administration calls a relation, and the custody it may carry.
RELATIONS = {"ouder": "parent", "parent": "parent", "voogd": "guardian",
             "guardian": "guardian", "pleegouder": "foster_parent",
             "foster_parent": "foster_parent", "jeugdbeschermer": "youth_protector",
             "youth_protector": "youth_protector"}
YES = frozenset({"ja", "j", "yes", "y", "1"})
NO = frozenset({"nee", "n", "no", "0"})


@dataclass(frozen=True)
class AdultRow:
    name: str
    email: str
    relation: Relation


@dataclass(frozen=True)
class PupilRow:
    pupil_number: str
    name: str
    birthdate: date
    group: str
    adults: tuple[AdultRow, ...] = ()


class RowRefused(ValueError):
    """``errors`` maps a column to the reason (a message id)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def parse_date(text: str) -> date | None:
    """dd-mm-jjjj or jjjj-mm-dd; None when the text is not a real date."""
    text = text.strip()
    dutch, iso = DUTCH_DATE.match(text), ISO_DATE.match(text)
    if dutch:
        day, month, year = (int(part) for part in dutch.groups())
    elif iso:
        year, month, day = (int(part) for part in iso.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def pupil(fields: dict[str, str], today: date) -> PupilRow:
    """The pupil's own fields, checked; raises RowRefused naming every bad column."""
    errors: dict[str, str] = {}
    number = fields.get("leerlingnummer", "").strip()
    name = " ".join(fields.get("naam", "").split())
    group = fields.get("groep", "").strip()
    if not number:
        errors["leerlingnummer"] = N_("The pupil number is missing.")
    elif len(number) > MAX_NUMBER or not PUPIL_NUMBER.match(number):
        errors["leerlingnummer"] = N_("The pupil number may hold letters, digits, and . _ / - "
                                      "(at most 32).")
    if not name:
        errors["naam"] = N_("The name is missing.")
    elif len(name) > MAX_NAME:
        errors["naam"] = N_("The name is longer than 200 characters.")
    born = parse_date(fields.get("geboortedatum", ""))
    if born is None:
        errors["geboortedatum"] = N_("Impossible date: write dd-mm-jjjj or jjjj-mm-dd.")
    elif not MIN_AGE <= age_on(born, today) <= MAX_AGE:
        errors["geboortedatum"] = N_("A pupil must be between 2 and 23 years old.")
    if len(group) > MAX_GROUP:
        errors["groep"] = N_("The group is longer than 32 characters.")
    check_text(errors, {"naam": name, "groep": group})
    adults: list[AdultRow] = []
    for index in range(1, MAX_ADULTS + 1):
        try:
            found = adult(fields, f"verzorger{index}_")
        except RowRefused as refused:
            errors.update(refused.errors)
            continue
        if found is not None:
            adults.append(found)
    emails = [a.email.lower() for a in adults]
    if len(set(emails)) != len(emails):
        errors.setdefault("verzorger2_email", N_("The same adult is listed twice."))
    if errors:
        raise RowRefused(errors)
    assert born is not None
    return PupilRow(number, name, born, group, tuple(adults))


def adult(fields: dict[str, str], prefix: str) -> AdultRow | None:
    name = " ".join(fields.get(prefix + "naam", "").split())
    email = fields.get(prefix + "email", "").strip()
    relation = fields.get(prefix + "relatie", "").strip().lower()
    custody = fields.get(prefix + "gezag", "").strip().lower()
    if not (name or email or relation or custody):
        return None
    errors: dict[str, str] = {}
    if not name:
        errors[prefix + "naam"] = N_("The adult's name is missing.")
    elif len(name) > MAX_NAME:
        errors[prefix + "naam"] = N_("The name is longer than 200 characters.")
    check_text(errors, {prefix + "naam": name})
    if not EMAIL.match(email) or len(email) > 320:
        errors[prefix + "email"] = N_("Malformed e-mail address.")
    # The address pattern lets NUL and bidi characters through: the one text rule catches them.
    check_text(errors, {prefix + "email": email})
    kind = RELATIONS.get(relation)
    if kind is None:
        errors[prefix + "relatie"] = N_("Unknown relation: use ouder, voogd, pleegouder or "
                                        "jeugdbeschermer.")
    elif custody and custody not in YES | NO:
        errors[prefix + "gezag"] = N_("Custody must be ja, nee or empty.")
    else:
        outcome = relation_with_custody(kind, custody in YES, custody in NO)
        if not isinstance(outcome, Relation):  # a Relation is a str too: test for it
            errors[prefix + "gezag"] = outcome
    if errors:
        raise RowRefused(errors)
    assert kind is not None
    found = relation_with_custody(kind, custody in YES, custody in NO)
    assert isinstance(found, Relation)
    return AdultRow(name, email, found)


def relation_with_custody(kind: str, custody: bool, no_custody: bool) -> Relation | str:
    """The relation for ``kind`` and what the row says about custody, or why they conflict.

    A guardian always has custody, a foster parent and a youth protector never
    (DOMAIN.md); for a parent the row must say which.
    """
    if kind == "parent":
        if custody:
            return Relation.PARENT_WITH_CUSTODY
        if no_custody:
            return Relation.PARENT_WITHOUT_CUSTODY
        return N_("Say whether this parent has custody (ja or nee).")
    fixed = {"guardian": (Relation.GUARDIAN, True),
             "foster_parent": (Relation.FOSTER_PARENT, False),
             "youth_protector": (Relation.YOUTH_PROTECTOR_OTS, False)}[kind]
    relation, has_custody = fixed
    if (custody and not has_custody) or (no_custody and has_custody):
        return N_("Conflicting custody: a guardian always has custody, a foster parent "
                  "or youth protector never.")
    return relation
