"""Finding what could identify a child in text written into an anonymous case. Pure.

What counts (the consent issue): a BSN that passes the elfproef, e-mail
addresses, Dutch phone numbers, dates of birth, a postcode with a house number,
and the names of children registered in the portal. The check errs towards
flagging: the writer removes what was found or confirms a false positive, and
that confirmation is recorded (never the text itself).

Dates: a date counts as a date of birth when a birth word stands right before
it ("geboren", "geb.", "geboortedatum", "born", "date of birth"), or when it
lies 2 to 25 years back — the ages of the children an MDO is about; recent
dates (meetings, absences) pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

KINDS = ("bsn", "email", "phone", "date_of_birth", "postcode_house_number", "child_name")

_BSN = re.compile(r"(?<![\d.\-])(\d{9}|\d{4}[ .]\d{2}[ .]\d{3}|\d{3}[ .]\d{3}[ .]\d{3})"
                  r"(?![\d]|[.\-]\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\d+])(?:\+31|0031|0)[ -]?(?:\(0\)[ -]?)?[1-9](?:[ -]?\d){8}(?!\d)")
_MONTHS = {
    "januari": 1, "jan": 1, "january": 1, "februari": 2, "feb": 2, "february": 2,
    "maart": 3, "mrt": 3, "march": 3, "mar": 3, "april": 4, "apr": 4, "mei": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6, "juli": 7, "jul": 7, "july": 7, "augustus": 8,
    "aug": 8, "august": 8, "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})(?!\d)"
                           r"|(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_WORD_DATE = re.compile(r"(?<!\d)(\d{1,2})\s+(" + "|".join(sorted(_MONTHS, key=len,
                                                                  reverse=True))
                        + r")\.?\s+(\d{4})(?!\d)", re.IGNORECASE)
_BIRTH_WORD = re.compile(r"(geboren|geb\.|geboortedatum|born|date of birth|dob)\W{0,3}"
                         r"(op\W+|on\W+)?$", re.IGNORECASE)
_POSTCODE = re.compile(r"(?<![\dA-Za-z])[1-9]\d{3} ?(?!SA|SD|SS)[A-Z]{2}(?![A-Za-z])")
_HOUSE_NUMBER = re.compile(r"(?<![\dA-Za-z])\d{1,5}(?: ?[a-zA-Z](?![a-zA-Z]))?(?![\d])")
# Name particles are not names on their own ("van", "de", "der" ...).
_PARTICLES = frozenset({"van", "von", "der", "den", "de", "het", "ter", "ten", "te", "le",
                        "la", "du", "op", "in", "'t"})


@dataclass(frozen=True)
class Finding:
    kind: str
    text: str  # what matched, to show the writer what to remove (never stored)
    start: int


def elfproef(digits: str) -> bool:
    """The BSN check: 9·d1 + 8·d2 + … + 2·d8 − d9 is a multiple of 11 (and not all zero)."""
    if len(digits) != 9 or not digits.isdigit() or set(digits) == {"0"}:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    return (total - int(digits[8])) % 11 == 0


def _dates(text: str, today: date) -> list[Finding]:
    found = []
    for match in [*_NUMERIC_DATE.finditer(text), *_WORD_DATE.finditer(text)]:
        when = _as_date(match)
        if when is None:
            continue
        birth_word = _BIRTH_WORD.search(text[max(0, match.start() - 30):match.start()])
        years = (today - when).days / 365.25
        if birth_word or 2 <= years <= 25:
            found.append(Finding("date_of_birth", match.group(0), match.start()))
    return found


def _as_date(match: re.Match[str]) -> date | None:
    groups = match.groups()
    try:
        if match.re is _WORD_DATE:
            return date(int(groups[2]), _MONTHS[groups[1].lower()], int(groups[0]))
        if groups[3]:
            return date(int(groups[3]), int(groups[4]), int(groups[5]))
        year = int(groups[2])
        if year < 100:
            year += 2000 if year <= 30 else 1900
        return date(year, int(groups[1]), int(groups[0]))
    except ValueError:  # 31-02-2015 and the like
        return None


def _postcodes(text: str) -> list[Finding]:
    found = []
    for match in _POSTCODE.finditer(text):
        before = text[max(0, match.start() - 40):match.start()]
        after = text[match.end():match.end() + 10]
        if _HOUSE_NUMBER.search(before) or re.match(r"\W{0,3}\d{1,5}", after):
            found.append(Finding("postcode_house_number", match.group(0), match.start()))
    return found


def name_patterns(names: Iterable[str]) -> list[re.Pattern[str]]:
    """Whole-word patterns for the registered children's full names and name parts."""
    words: set[str] = set()
    for name in names:
        cleaned = " ".join(name.split())
        if cleaned:
            words.add(cleaned)
            words.update(part for part in cleaned.split(" ")
                         if len(part) >= 3 and part.lower() not in _PARTICLES)
    if not words:
        return []
    # One alternation, longest first: the full name wins over its parts, and a
    # thousand children cost one pass over the text instead of two thousand.
    ordered = sorted(words, key=lambda w: (-len(w), w))
    alternatives = "|".join(re.escape(w) for w in ordered)
    return [re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)]


def find_identifiers(text: str, names: list[re.Pattern[str]], today: date) -> list[Finding]:
    """Everything in ``text`` that may identify a child, in the order it appears."""
    found: list[Finding] = []
    found += [Finding("bsn", m.group(0), m.start()) for m in _BSN.finditer(text)
              if elfproef(re.sub(r"\D", "", m.group(0)))]
    found += [Finding("email", m.group(0), m.start()) for m in _EMAIL.finditer(text)]
    found += [Finding("phone", m.group(0), m.start()) for m in _PHONE.finditer(text)]
    found += _dates(text, today)
    found += _postcodes(text)
    taken: list[tuple[int, int]] = []
    for pattern in names:
        for m in pattern.finditer(text):
            if not any(s <= m.start() < e for s, e in taken):
                taken.append((m.start(), m.end()))
                found.append(Finding("child_name", m.group(0), m.start()))
    return sorted(found, key=lambda f: (f.start, f.kind))
