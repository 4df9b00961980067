"""The demo data with the register: sealed citizens, enrolled children, loading twice is a no-op."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select

from portal import demo
from portal.people.models import Enrolment, Person, PersonKind
from portal.people.names import names_of
from tests.harness import Running
from tests.register.helpers import transaction


def test_demo_citizens_are_sealed_and_children_enrolled(running_sqlite: Running) -> None:
    running = running_sqlite
    with running.portal.sessions() as db:
        citizens = db.scalars(select(Person).where(Person.kind == PersonKind.CITIZEN)).all()
        assert citizens and all(p.display_name == "" and p.name_ct for p in citizens)
        names = names_of(db, running.portal.vault, [p.id for p in citizens])
        assert "Petra Mulder" in names.values()
        assert len(db.scalars(select(Enrolment)).all()) == len(demo.CHILDREN)
    with transaction(running) as db:
        assert demo.load(db, running.portal.vault, running.clock()) is False


def test_a_database_from_before_the_register_gets_its_enrolments(running_sqlite: Running) -> None:
    running = running_sqlite
    with transaction(running) as db:
        db.execute(delete(Enrolment))
    with transaction(running) as db:
        assert demo.load(db, running.portal.vault, running.clock()) is True
    with running.portal.sessions() as db:
        assert len(db.scalars(select(Enrolment)).all()) == len(demo.CHILDREN)


def test_a_citizen_logging_in_does_not_put_their_name_back_in_clear(
        running_sqlite: Running, sqlite_url: str) -> None:
    """Login provisioning writes the IdP's name claim; the flush seals it."""
    running = running_sqlite
    parent = running.client()
    parent.login("ouder1")
    assert "Petra Mulder" in parent.page("/family").text  # the header, unsealed
    with running.portal.sessions() as db:
        petra = db.get_one(Person, demo.stable_id("person", "ouder1"))
        assert petra.display_name == "" and petra.name_ct is not None
        assert petra.last_login_at is not None  # provisioning did run
        assert names_of(db, running.portal.vault, [petra.id]) == {petra.id: "Petra Mulder"}
    db_file = Path(sqlite_url.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in (db_file, Path(f"{db_file}-wal")) if p.exists())
    assert b"Petra Mulder" not in stored
