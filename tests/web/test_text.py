"""The one free-text rule: no NUL, C0/C1 controls or bidi overrides, in every form."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.demo import DEMO_CASE, stable_id
from portal.register.rows import RowRefused, pupil
from portal.web.text import hidden_characters
from tests.cases.test_flow import create_case
from tests.harness import Running
from tests.minutes.helpers import MINUTES, logged_in, save, section, versions

MESSAGE = "Dit veld bevat verborgen stuur- of schrijfrichtingstekens"
CASE_PATH = f"/cases/{stable_id('case', DEMO_CASE.key)}"
BAD = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9b", *map(chr, range(0x202A, 0x202F)),
       *map(chr, range(0x2066, 0x206A))]


@pytest.mark.parametrize("char", BAD)
def test_every_refused_character_is_refused_in_any_field(char: str) -> None:
    assert hidden_characters(f"Verslag {char}x", multiline=False)
    assert hidden_characters(f"Verslag {char}x", multiline=True)


def test_ordinary_text_passes() -> None:
    assert not hidden_characters("Zoë's café — 10 € \t «ok» 😀 עברית")
    assert not hidden_characters("regel 1\r\nregel 2\n\tingesprongen", multiline=True)
    assert hidden_characters("regel 1\nregel 2", multiline=False)


def test_the_case_form_refuses_a_bidi_title_and_keeps_the_input(running: Running) -> None:
    with pytest.raises(AssertionError):
        create_case(running, title="Verslag \u202efdp.exe\u202c")
    client = logged_in(running, "ib")
    form = client.page("/cases/new")
    assert form.status_code == 200
    refused = client.submit("/cases", {"title": "Verslag \u202efdp.exe\u202c",
                                       "purpose": "Ondersteuning\x00", "anonymous": "on",
                                       "legal_basis": "consent"})
    assert refused.status_code == 400
    # Once at each field and once in the error summary that links to it.
    assert refused.text.count(MESSAGE) == 4, "title and purpose each named"
    assert 'href="#title"' in refused.text and 'href="#purpose"' in refused.text
    assert "Ondersteuning" in refused.text


def test_the_meeting_and_action_item_forms_refuse_control_characters(
        running: Running) -> None:
    chair = logged_in(running, "ib")
    chair.page(f"{CASE_PATH}/meetings/new")
    day = (running.clock.now + timedelta(days=3)).date().isoformat()
    refused = chair.submit(f"{CASE_PATH}/meetings", {
        "date": day, "time": "10:00", "duration": "60", "place": "Kamer\u2066 9",
        "agenda": "regel 1\r\nregel 2\x1b", "category": "behaviour"})
    assert refused.status_code == 400
    # Both fields refused: each carries the message (and the error summary lists both).
    for field in ("place", "agenda"):
        assert f'id="{field}-error">{MESSAGE}' in refused.text, field
        assert f'<a href="#{field}">{MESSAGE}' in refused.text, field
    chair.page(CASE_PATH)
    item = chair.submit(f"{CASE_PATH}/action-items", {
        "text": "Bellen\u202d", "owner_id": stable_id("person", "mentor"),
        "due_on": (running.clock.now + timedelta(days=5)).date().isoformat(),
        "category": "behaviour"}, htmx=True)
    assert item.status_code == 400 and MESSAGE in item.text


def test_the_minutes_editor_refuses_a_bidi_heading(running: Running) -> None:
    writer = logged_in(running, "notulist")
    refused = save(writer, section("Verslag \u202efdp.exe\u202c", "Tekst\r\nmet regels",
                                   categories=("behaviour",)))
    assert refused.status_code == 400 and MESSAGE in refused.text
    assert versions(running) == []
    accepted = save(writer, section("Verslag", "Tekst\r\nmet\tregels",
                                    categories=("behaviour",)))
    assert accepted.status_code == 200
    assert MINUTES in str(accepted.url)


def test_register_names_are_checked_row_by_row() -> None:
    fields = {"leerlingnummer": "123", "naam": "Sam\u202e Mulder", "geboortedatum": "2014-03-01",
              "groep": "7\x00", "verzorger1_naam": "Petra\u2067 Mulder",
              "verzorger1_email": "petra@example.org", "verzorger1_relatie": "ouder"}
    with pytest.raises(RowRefused) as refused:
        pupil(fields, date(2026, 12, 4))
    assert {name for name, message in refused.value.errors.items()
            if "hidden control" in message} == {"naam", "groep", "verzorger1_naam"}


def test_the_organisation_form_refuses_a_bidi_name(running_sqlite: Running) -> None:
    admin = logged_in(running_sqlite, "beheerder")
    admin.page("/admin")
    refused = admin.submit("/admin/organisations", {"name": "OBS \u202eDe Regenboog",
                                                    "slug": "obs-regenboog", "kind": "school"})
    assert refused.status_code == 400 and MESSAGE in refused.text
