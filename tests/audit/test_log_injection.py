"""Names and search terms with newlines, ANSI codes or JSON-breaking characters.

They are stored as given, sealed as escapes (the canonical encoding is pure
ASCII), and shown encoded on every way out: the HTML pages, CSV, FHIR JSON and
the verifier's output.
"""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select, update

from portal.audit.export import visible
from portal.audit.models import AccessRecord
from portal.demo import DEMO_CASE, stable_id
from portal.people.models import Person
from tests.harness import Running

CASE_ID = stable_id("case", DEMO_CASE.key)
NASTY = 'Mirjam\r\n2026-01-01 fake line\x1b[31m"},{"user_name":"admin"}\u2028<script>x</script>'
RAW = ("\n", "\r", "\x1b", "\u2028")


def test_a_hostile_name_is_stored_as_given_and_shown_encoded(running: Running) -> None:
    mentor = running.client()
    mentor.login("mentor")
    with running.portal.sessions.begin() as db:
        db.execute(update(Person).where(Person.id == stable_id("person", "mentor"))
                   .values(display_name=NASTY))
    assert mentor.page(f"/cases/{CASE_ID}").status_code == 200
    with running.portal.sessions() as db:
        entry = db.scalars(select(AccessRecord).where(AccessRecord.user_name == NASTY)
                           .order_by(AccessRecord.seq.desc())).first()
    assert entry is not None, "the name is stored exactly as given"
    sealed = entry.encoding.decode("ascii")  # pure ASCII, or this raises
    assert '"user_name":"Mirjam\\r\\n2026-01-01 fake line\\u001b[31m\\"},{' in sealed
    assert json.loads(entry.encoding)["user_name"] == NASTY

    dpo = running.client()
    dpo.login("fg")
    page = dpo.page(f"/audit?case={CASE_ID}").text
    table = page.split("<tbody")[1]
    assert "Mirjam\\u000d\\u000a2026-01-01 fake line\\u001b[31m" in table
    assert "&lt;script&gt;x&lt;/script&gt;" in table and "<script>x" not in table
    assert not any(char in table for char in ("\x1b", "\u2028"))

    rows = list(csv.reader(io.StringIO(dpo.get(f"/audit/export.csv?case={CASE_ID}").text)))
    names = [row[rows[0].index("user_name")] for row in rows[1:]]
    assert "Mirjam\\u000d\\u000a2026-01-01 fake line\\u001b[31m\"},{\"user_name\":\"admin\"}" \
        "\\u2028<script>x</script>" in names
    assert not any(char in cell for row in rows for cell in row for char in RAW)

    exported = dpo.get(f"/audit/export.json?case={CASE_ID}").text
    assert exported.isascii() and "\x1b" not in exported
    displays = [agent["who"]["display"] for entry in json.loads(exported)["entry"]
                for agent in entry["resource"]["agent"] if "who" in agent]
    assert NASTY in displays


def test_a_formula_in_a_name_is_defused_in_csv(running_sqlite: Running) -> None:
    mentor = running_sqlite.client()
    mentor.login("mentor")
    with running_sqlite.portal.sessions.begin() as db:
        db.execute(update(Person).where(Person.id == stable_id("person", "mentor"))
                   .values(display_name='=HYPERLINK("http://evil.example")'))
    mentor.page(f"/cases/{CASE_ID}")
    dpo = running_sqlite.client()
    dpo.login("fg")
    rows = list(csv.reader(io.StringIO(dpo.get("/audit/export.csv").text)))
    names = {row[rows[0].index("user_name")] for row in rows[1:]}
    assert "'=HYPERLINK(\"http://evil.example\")" in names
    assert not any(name.startswith("=") for name in names)


def test_a_hostile_search_term_is_recorded_and_shown_encoded(running: Running) -> None:
    dpo = running.client()
    dpo.login("fg")
    term = "x\n\x1b[2J\"}"
    dpo.get("/audit", params={"person": term})
    with running.portal.sessions() as db:
        search = db.scalars(select(AccessRecord).where(AccessRecord.event_type == "audit.search")
                            .order_by(AccessRecord.seq.desc())).first()
    assert search is not None and search.query == "person=x%0A%1B%5B2J%22%7D"
    page = dpo.page("/audit", ).text
    assert "person=x%0A%1B%5B2J%22%7D" in page  # the earlier search, as recorded
    assert "\x1b" not in page


def test_bidirectional_and_zero_width_marks_are_written_out() -> None:
    # "Trojan Source": a right-to-left override makes "nav‮gnp.exe" read as "navexe.png".
    shown = visible("Sam\u202eredluM\u202c \u2066x\u2069\u200b\ufeff")
    assert shown == "Sam\\u202eredluM\\u202c \\u2066x\\u2069\\u200b\\ufeff"
    assert visible("Zoë Çelik – één") == "Zoë Çelik – één"  # ordinary text untouched
