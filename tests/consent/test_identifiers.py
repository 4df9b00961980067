"""The identifier check for anonymous cases: what it finds and what it lets pass."""

from __future__ import annotations

from datetime import date

import pytest

from portal.consent.identifiers import elfproef, find_identifiers, name_patterns

TODAY = date(2026, 11, 28)
NAMES = name_patterns(["Sam Mulder", "Noor Haddad", "Jan van der Berg"])


def kinds(text: str) -> list[str]:
    return [f.kind for f in find_identifiers(text, NAMES, TODAY)]


@pytest.mark.parametrize(("number", "valid"), [
    ("111222333", True), ("123456782", True), ("123456789", False), ("000000000", False),
    ("12345678", False)])
def test_the_elfproef(number: str, valid: bool) -> None:
    assert elfproef(number) is valid


@pytest.mark.parametrize(("text", "expected"), [
    ("BSN 123456782", ["bsn"]),
    ("bsn 1234.56.782", ["bsn"]),
    ("bsn 123 456 782", ["bsn"]),
    ("ordernummer 123456789", []),  # nine digits that fail the elfproef
    ("mail ouders@voorbeeld.nl", ["email"]),
    ("bel 06-12345678", ["phone"]),
    ("bel +31 20 123 4567", ["phone"]),
    ("tel. 0031 6 1234 5678", ["phone"]),
    ("geboren op 2-4-2013", ["date_of_birth"]),
    ("geb. 2 april 2013", ["date_of_birth"]),
    ("born 1 March 2001", ["date_of_birth"]),  # old, but a birth word stands before it
    ("kind van 2010-03-15", ["date_of_birth"]),
    ("overleg op 12-11-2026", []),  # a recent date: a meeting, not a birthday
    ("31-02-2015 is geen datum", []),
    ("Dorpsstraat 12, 1234 AB Ergenshuizen", ["postcode_house_number"]),
    ("1234AB 5", ["postcode_house_number"]),
    ("postcode 1234 AB alleen", []),
    ("Sam is erg onrustig", ["child_name"]),
    ("samen met de klas", []),  # a whole word only
    ("gesprek met Sam Mulder", ["child_name"]),  # the full name once, not also its parts
    ("de heer van der Berg", ["child_name"]),  # particles alone are no names
    ("een kind in groep 7 met zorgen over gedrag", []),
])
def test_what_is_found(text: str, expected: list[str]) -> None:
    assert kinds(text) == expected


def test_findings_show_what_to_remove_in_order() -> None:
    found = find_identifiers("Noor (noor@x.nl) woont op 1234 AB 7", NAMES, TODAY)
    assert [(f.kind, f.text) for f in found] == [
        ("child_name", "Noor"), ("child_name", "noor"), ("email", "noor@x.nl"),
        ("postcode_house_number", "1234 AB")]
