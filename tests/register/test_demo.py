"""The demo data with the register: sealed citizens, enrolled children, loading twice is a no-op."""

from __future__ import annotations

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
