"""Checking one pupil row and reading the file format (pure)."""

from __future__ import annotations

from datetime import date

import pytest

from portal.people.models import Relation
from portal.register import csvfile, rows
from portal.register.rows import RowRefused

TODAY = date(2026, 12, 4)


def fields(**changes: str) -> dict[str, str]:
    base = {"leerlingnummer": "1234", "naam": "Sam  de  Vries", "geboortedatum": "02-04-2015",
            "groep": "5a", "verzorger1_naam": "Petra de Vries",
            "verzorger1_email": "petra@example.nl", "verzorger1_relatie": "ouder",
            "verzorger1_gezag": "ja"}
    return base | changes


def refused(**changes: str) -> dict[str, str]:
    with pytest.raises(RowRefused) as caught:
        rows.pupil(fields(**changes), TODAY)
    return caught.value.errors


def test_a_good_row_becomes_a_pupil_with_their_adults() -> None:
    row = rows.pupil(fields(), TODAY)
    assert (row.pupil_number, row.name, row.birthdate, row.group) == \
        ("1234", "Sam de Vries", date(2015, 4, 2), "5a")
    assert [(a.name, a.relation) for a in row.adults] == \
        [("Petra de Vries", Relation.PARENT_WITH_CUSTODY)]


@pytest.mark.parametrize(("text", "expected"), [
    ("02-04-2015", date(2015, 4, 2)), ("2-4-2015", date(2015, 4, 2)),
    ("2015-04-02", date(2015, 4, 2)), ("29-02-2016", date(2016, 2, 29)),
    ("29-02-2015", None), ("31-04-2015", None), ("2015/04/02", None), ("", None),
    ("02-04-15", None), ("00-01-2015", None)])
def test_dates_are_dutch_or_iso_and_must_exist(text: str, expected: date | None) -> None:
    assert rows.parse_date(text) == expected


@pytest.mark.parametrize(("changes", "column"), [
    ({"geboortedatum": "31-02-2015"}, "geboortedatum"),
    ({"geboortedatum": "05-12-2024"}, "geboortedatum"),  # not yet 2
    ({"geboortedatum": "03-12-2002"}, "geboortedatum"),  # 24 yesterday
    ({"leerlingnummer": ""}, "leerlingnummer"),
    ({"leerlingnummer": "12 34"}, "leerlingnummer"),
    ({"naam": "  "}, "naam"),
    ({"verzorger1_email": "petra@"}, "verzorger1_email"),
    ({"verzorger1_email": "petra example.nl"}, "verzorger1_email"),
    ({"verzorger1_relatie": "oom"}, "verzorger1_relatie"),
    ({"verzorger1_gezag": ""}, "verzorger1_gezag"),  # a parent must say
    ({"verzorger1_gezag": "misschien"}, "verzorger1_gezag"),
    ({"verzorger1_relatie": "voogd", "verzorger1_gezag": "nee"}, "verzorger1_gezag"),
    ({"verzorger1_relatie": "pleegouder", "verzorger1_gezag": "ja"}, "verzorger1_gezag"),
    ({"verzorger1_relatie": "jeugdbeschermer", "verzorger1_gezag": "ja"}, "verzorger1_gezag"),
    ({"verzorger1_naam": ""}, "verzorger1_naam"),
])
def test_each_bad_field_is_named(changes: dict[str, str], column: str) -> None:
    assert column in refused(**changes)


def test_the_age_limits_are_inclusive() -> None:
    assert rows.pupil(fields(geboortedatum="04-12-2024"), TODAY).birthdate == date(2024, 12, 4)
    assert rows.pupil(fields(geboortedatum="05-12-2002"), TODAY).birthdate == date(2002, 12, 5)
    assert "geboortedatum" in refused(geboortedatum="04-12-2002")  # 24 today


def test_every_bad_column_of_a_row_is_reported_at_once() -> None:
    assert set(refused(naam="", geboortedatum="x", verzorger1_email="nope")) == \
        {"naam", "geboortedatum", "verzorger1_email"}


def test_the_same_adult_twice_in_one_row_is_refused() -> None:
    errors = refused(verzorger2_naam="Petra de Vries", verzorger2_email="PETRA@example.nl",
                     verzorger2_relatie="ouder", verzorger2_gezag="ja")
    assert "verzorger2_email" in errors


def test_guardians_foster_parents_and_youth_protectors_need_no_custody_column() -> None:
    for relation, expected in [("voogd", Relation.GUARDIAN),
                               ("pleegouder", Relation.FOSTER_PARENT),
                               ("jeugdbeschermer", Relation.YOUTH_PROTECTOR_OTS)]:
        row = rows.pupil(fields(verzorger1_relatie=relation, verzorger1_gezag=""), TODAY)
        assert row.adults[0].relation is expected


@pytest.mark.parametrize("delimiter", [";", ","])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_the_file_may_use_either_delimiter_and_a_bom(delimiter: str, bom: bytes) -> None:
    text = (f"Leerlingnummer{delimiter}naam{delimiter}geboortedatum\r\n"
            f"1{delimiter}\"Jansen{delimiter} Piet\"{delimiter}01-01-2015\r\n\r\n"
            f"2{delimiter}Kees{delimiter}2015-01-01\r\n")
    found = list(csvfile.lines(csvfile.decode(bom + text.encode())))
    assert [(line.number, line.fields["naam"]) for line in found] == \
        [(2, f"Jansen{delimiter} Piet"), (4, "Kees")]


def test_line_numbers_count_physical_lines_of_quoted_newlines() -> None:
    text = 'leerlingnummer;naam;geboortedatum\n1;"twee\nregels";01-01-2015\n2;x;01-01-2015\n'
    assert [line.number for line in csvfile.lines(text)] == [2, 4]


@pytest.mark.parametrize(("data", "reason"), [
    (b"\xff\xfeleerlingnummer", "not UTF-8"),
    (b"", "empty"),
    (b"leerlingnummer;naam\n1;x\n", "missing"),
    (b"leerlingnummer;naam;naam;geboortedatum\n", "twice"),
])
def test_a_file_that_cannot_be_read_is_refused_whole(data: bytes, reason: str) -> None:
    with pytest.raises(csvfile.FileRefused) as caught:
        list(csvfile.lines(csvfile.decode(data)))
    assert reason in caught.value.reason
