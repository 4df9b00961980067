"""The anonymous-case name check answers only about the writer's own pupils, and is recorded.

Issue 12, finding 6: an outsider sent 22 candidate names in one anonymous case
and was told exactly which belonged to registered children. Now the check
matches only the children the writer's own organisations may see (plus the
generic patterns), leaves an access record without names, and fails closed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select, text

from portal.audit.models import AccessRecord
from portal.cases.models import Case
from portal.consent.models import IdentifierOverride
from portal.db import unit_of_work
from portal.demo import DemoChild, _load_child
from portal.people.blind_index import blind_index
from tests.consent._portal import person
from tests.consent.test_anonymous import CASE_URL, create_anonymous
from tests.consent.test_portal import logged_in
from tests.harness import Running

# Two more pupils of Het Baken beside the demo's Sam Mulder and Noor Haddad.
EXTRA_PUPILS = (DemoChild("lieke", "Lieke Janssen", date(2014, 5, 6), "het-baken", None, ()),
                DemoChild("daan", "Daan Verbeek", date(2012, 9, 1), "het-baken", None, ()))
REGISTERED = ("Sam Mulder", "Noor Haddad", "Lieke Janssen", "Daan Verbeek")
UNREGISTERED = ("Emma Bos", "Lucas Smits", "Julia Hendriks", "Finn Kuipers", "Tess Wolters",
                "Milan Dekker", "Zoë Brouwer", "Levi Mertens", "Anna Hoekstra",
                "Mees Koster", "Sara Prins", "Jesse Postma", "Fenna Huisman",
                "Thijs Blom", "Lotte Vos", "Ruben Kok")
CANDIDATES = (*REGISTERED[:2], *UNREGISTERED[:8], *REGISTERED[2:], *UNREGISTERED[8:])
PURPOSE = "Wie van deze leerlingen? " + ", ".join(CANDIDATES)


def register_extra_pupils(running: Running) -> None:
    now = datetime.now(UTC)
    with unit_of_work(running.portal.sessions) as db:
        index = blind_index(db, running.portal.vault, now)
        for number, child in enumerate(EXTRA_PUPILS, start=2001):
            _load_child(db, running.portal.vault, index, child, str(number), now)


def name_checks(running: Running, persona: str) -> list[AccessRecord]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "child.name_check",
            AccessRecord.user_id == person(persona)).order_by(AccessRecord.seq)))


def test_an_outsiders_name_probe_learns_nothing_and_is_recorded(running: Running) -> None:
    assert len(CANDIDATES) == 20
    register_extra_pupils(running)
    outsider = logged_in(running, "buitenstaander")  # mentor at Het Lichtpunt: no pupils here
    answer = create_anonymous(outsider, "Leerling groep 7", PURPOSE)
    # Nothing is flagged: no name is confirmed or denied, the case is simply saved.
    assert CASE_URL.search(str(answer.url)), answer.text  # type: ignore[attr-defined]
    assert "naam van een geregistreerd kind" not in answer.text  # type: ignore[attr-defined]
    with running.portal.sessions() as db:
        assert db.scalars(select(IdentifierOverride)).all() == []
    checks = name_checks(running, "buitenstaander")
    assert len(checks) == 1 and checks[0].outcome == "allowed"
    assert checks[0].object_type == "child_names" and checks[0].child_id is None
    sealed = checks[0].encoding.decode()
    assert not any(part in sealed for name in CANDIDATES for part in name.split())

    # A care coordinator of the children's own school is warned, and that is recorded too.
    ib = logged_in(running, "ib")
    warned = create_anonymous(ib, "Leerling groep 7", PURPOSE)
    assert warned.status_code == 400  # type: ignore[attr-defined]
    assert "naam van een geregistreerd kind" in warned.text  # type: ignore[attr-defined]
    assert len(name_checks(running, "ib")) == 1
    with running.portal.sessions() as db:
        anonymous = db.scalars(select(Case).where(Case.anonymous.is_(True))).all()
    assert len(anonymous) == 1, "only the outsider's case was saved"


def test_the_name_check_fails_closed_when_it_cannot_be_recorded(
        running_sqlite: Running) -> None:
    mentor = logged_in(running_sqlite, "mentor")
    mentor.page("/cases/new")
    engine = running_sqlite.portal.engine
    with engine.begin() as conn:
        conn.execute(text("CREATE TRIGGER no_name_check BEFORE INSERT ON access_record "
                          "WHEN NEW.event_type = 'child.name_check' BEGIN "
                          "SELECT RAISE(FAIL, 'disk I/O error'); END"))
    refused = create_anonymous(mentor, "Zorgen om Sam", "Gedrag in de klas")
    assert refused.status_code == 503  # type: ignore[attr-defined]
    assert "naam van een geregistreerd kind" not in refused.text  # type: ignore[attr-defined]
    with running_sqlite.portal.sessions() as db:
        assert db.scalars(select(Case).where(Case.anonymous.is_(True))).all() == []
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER no_name_check"))
    warned = create_anonymous(mentor, "Zorgen om Sam", "Gedrag in de klas")
    assert warned.status_code == 400  # type: ignore[attr-defined]
    assert "naam van een geregistreerd kind" in warned.text  # type: ignore[attr-defined]
