"""The import through the service: dry run, all or nothing, idempotent, no duplicate people."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.audit.models import AccessRecord
from portal.consent.models import CustodyRecord
from portal.consent.rules import Relationship
from portal.errors import AccessDenied
from portal.people.blind_index import citizen_by_email
from portal.people.models import (
    Child,
    ChildRelation,
    Enrolment,
    Membership,
    Person,
    PersonKind,
    Relation,
    Role,
)
from portal.people.names import names_of
from portal.register import service
from portal.register.store import read_pupil
from tests.harness import Running
from tests.register.helpers import (
    BAKEN,
    CLASS,
    FATHER,
    JEUGDHULP,
    LICHTPUNT,
    MOTHER,
    actor,
    count,
    csv_bytes,
    pupil,
    requester,
    run_import,
    snapshot,
    transaction,
)


def pupils_of(running: Running, organisation: str) -> dict[str, tuple[str, str]]:
    """pupil number -> (name, group), unsealed."""
    with running.portal.sessions() as db:
        found = {}
        for enrolment in db.scalars(select(Enrolment).where(
                Enrolment.organisation_id == organisation)):
            view = read_pupil(db, running.portal.vault, enrolment)
            found[view.pupil_number] = (view.name, view.group)
        return found


def test_a_dry_run_says_what_would_happen_and_stores_nothing(running: Running) -> None:
    before = snapshot(running)
    plan = run_import(running, "ib", BAKEN, csv_bytes(CLASS), commit=False)
    assert plan.ok and plan.counts() == {"add": 3, "update": 0, "unchanged": 0, "refused": 0}
    assert snapshot(running) == before


def test_import_then_reimport_changes_nothing(running: Running) -> None:
    data = csv_bytes(CLASS)
    plan = run_import(running, "ib", BAKEN, data)
    assert plan.ok and len(plan.add) == 3
    assert pupils_of(running, BAKEN)["502"] == ("Finn Jansen", "3b")
    after_first = snapshot(running)
    again = run_import(running, "ib", BAKEN, data)
    assert again.counts() == {"add": 0, "update": 0, "unchanged": 3, "refused": 0}
    assert snapshot(running) == after_first


def test_siblings_share_their_parent_and_adults_are_sealed(running_sqlite: Running) -> None:
    running = running_sqlite
    run_import(running, "ib", BAKEN, csv_bytes(CLASS))
    with running.portal.sessions() as db:
        annas = db.scalars(select(Person).where(Person.email == MOTHER[1])).all()
        assert len(annas) == 1 and annas[0].kind is PersonKind.CITIZEN
        assert annas[0].display_name == "" and annas[0].name_ct is not None
        assert names_of(db, running.portal.vault, [annas[0].id]) == {annas[0].id: "Anna Jansen"}
        relations = db.scalars(select(ChildRelation).where(
            ChildRelation.person_id == annas[0].id)).all()
        assert len(relations) == 2
        father = db.scalars(select(Person).where(Person.email == FATHER[1])).one()
        assert db.scalars(select(ChildRelation.relation).where(
            ChildRelation.person_id == father.id)).one() is Relation.PARENT_WITHOUT_CUSTODY


def test_an_updated_file_updates_by_pupil_number(running_sqlite: Running) -> None:
    running = running_sqlite
    run_import(running, "ib", BAKEN, csv_bytes(CLASS))
    people = count(running, Person)
    changed = [pupil("501", "Eva Jansen-Smit", "03-05-2015", "6a", MOTHER, FATHER),
               CLASS[1], CLASS[2]]
    plan = run_import(running, "ib", BAKEN, csv_bytes(changed))
    assert plan.counts() == {"add": 0, "update": 1, "unchanged": 2, "refused": 0}
    assert pupils_of(running, BAKEN)["501"] == ("Eva Jansen-Smit", "6a")
    assert count(running, Person) == people and count(running, Child) == 3 + 2  # + demo


def test_refused_rows_are_named_and_nothing_is_stored(running: Running) -> None:
    before = snapshot(running)
    bad = [*CLASS,
           pupil("504", "Ivo", "31-02-2015"),                              # line 5
           pupil("501", "Jet", "01-01-2015"),                              # line 6
           pupil("506", "Kim", "01-01-2015", "1", ("K", "k@", "ouder", "ja")),
           pupil("507", "Lot", "01-01-2015", "1", ("L", "l@example.nl", "oom", "")),
           pupil("508", "Mo", "01-01-2025"),                               # 1 year old
           pupil("509", "Nel", "01-01-2000"),                              # 26
           pupil("510", "Olaf", "01-01-2015", "1", ("O", "o@example.nl", "pleegouder", "ja"))]
    plan = run_import(running, "ib", BAKEN, csv_bytes(bad))
    assert not plan.ok
    assert [(r.line, r.column) for r in plan.refused] == [
        (5, "geboortedatum"), (6, "leerlingnummer"), (7, "verzorger1_email"),
        (8, "verzorger1_relatie"), (9, "geboortedatum"), (10, "geboortedatum"),
        (11, "verzorger1_gezag")]
    assert plan.refused[1].detail == "2"  # the duplicate's first line
    assert snapshot(running) == before


def test_one_email_with_two_names_in_a_file_is_refused(running_sqlite: Running) -> None:
    rows = [CLASS[0], pupil("502", "Finn", "01-01-2016", "1",
                            ("Anne Janssen", MOTHER[1], "ouder", "ja"))]
    plan = run_import(running_sqlite, "ib", BAKEN, csv_bytes(rows))
    assert [(r.line, r.column, r.detail) for r in plan.refused] == \
        [(3, "verzorger1_naam", "2")]


def test_a_custody_form_record_is_not_overwritten_by_an_import(running_sqlite: Running) -> None:
    running = running_sqlite
    run_import(running, "ib", BAKEN, csv_bytes(CLASS))
    with transaction(running) as db:
        father = db.scalars(select(Person).where(Person.email == FATHER[1])).one()
        relation = db.scalars(select(ChildRelation).where(
            ChildRelation.person_id == father.id)).one()
        db.add(CustodyRecord(child_relation_id=relation.id, relationship=Relationship.UNMARRIED,
                             is_mother=False, custody_applied=False, court_custody=None,
                             sole_custody_claimed=False, recorded_by=father.id,
                             recorded_at=running.clock()))
    claims_custody = [pupil("501", "Eva Jansen", "03-05-2015", "5a", MOTHER,
                            ("Bram Jansen", FATHER[1], "ouder", "ja")), *CLASS[1:]]
    plan = run_import(running, "ib", BAKEN, csv_bytes(claims_custody))
    assert [(r.line, r.column) for r in plan.refused] == [(2, "verzorger2_gezag")]


def test_a_parent_with_children_at_two_schools_is_one_person(running: Running) -> None:
    run_import(running, "ib", BAKEN, csv_bytes(CLASS))
    other = [pupil("L-1", "Wout Jansen", "01-09-2019", "groep 3", MOTHER)]
    plan = run_import(running, "ib-lichtpunt", LICHTPUNT, csv_bytes(other))
    assert plan.ok and plan.add == [2]
    with running.portal.sessions() as db:
        assert len(db.scalars(select(Person).where(Person.email == MOTHER[1])).all()) == 1
    # School B sees only its own pupil; school A's pupils are not found there.
    assert set(pupils_of(running, LICHTPUNT)) == {"L-1"}
    who = actor(running, "ib-lichtpunt")
    with transaction(running) as db:
        page = service.register_page(db, running.portal.vault, requester(who), who,
                                     running.clock(), LICHTPUNT)
        assert [p.name for p in page.pupils] == ["Wout Jansen"]
        eva = db.scalars(select(Enrolment).where(Enrolment.organisation_id == BAKEN)).first()
        assert eva is not None
        eva_child = eva.child_id
    with transaction(running) as db, pytest.raises(AccessDenied) as denied:
        service.child_page(db, running.portal.vault, requester(who), who, running.clock(),
                           LICHTPUNT, eva_child)
    assert denied.value.decision.hide
    with transaction(running) as db, pytest.raises(AccessDenied) as denied:
        service.register_page(db, running.portal.vault, requester(who), who, running.clock(),
                              BAKEN)
    assert denied.value.decision.hide  # another school's register does not exist for B


def test_a_child_moving_schools_stays_one_child(running_sqlite: Running) -> None:
    running = running_sqlite
    run_import(running, "ib", BAKEN, csv_bytes(CLASS))
    children = count(running, Child)
    with transaction(running) as db:
        gijs = db.scalars(select(Enrolment)).all()
    moved = [pupil("L-77", "Gijs de Wit", "2014-11-11", "groep 8",
                   ("Hanna de Wit", "HANNA@example.nl", "voogd", ""))]
    plan = run_import(running, "ib-lichtpunt", LICHTPUNT, csv_bytes(moved))
    assert plan.ok and plan.add == [2]
    assert count(running, Child) == children
    with running.portal.sessions() as db:
        enrolment = db.scalars(select(Enrolment).where(
            Enrolment.organisation_id == LICHTPUNT)).one()
        child = db.get_one(Child, enrolment.child_id)
        assert child.school_id == LICHTPUNT  # the custody form is now the new school's
        assert enrolment.child_id in {e.child_id for e in gijs}


def test_same_name_and_birthdate_without_a_shared_adult_is_another_child(
        running_sqlite: Running) -> None:
    running = running_sqlite
    run_import(running, "ib", BAKEN, csv_bytes(CLASS))
    children = count(running, Child)
    namesake = [pupil("L-9", "Gijs de Wit", "11-11-2014", "8",
                      ("Iris de Wit", "iris@example.nl", "ouder", "ja"))]
    run_import(running, "ib-lichtpunt", LICHTPUNT, csv_bytes(namesake))
    assert count(running, Child) == children + 1


def test_a_parent_who_is_also_staff_keeps_two_separate_accounts(
        running_sqlite: Running) -> None:
    """A staff login (school IdP) and a parent login (DigiD) are two people by design."""
    running = running_sqlite
    staff_email = "mentor@demo.mdo-portaal.test"
    rows = [pupil("601", "Roos de Vries", "01-01-2016", "4", ("Mirjam de Vries", staff_email,
                                                               "ouder", "ja"))]
    run_import(running, "ib", BAKEN, csv_bytes(rows))
    with running.portal.sessions() as db:
        found = db.scalars(select(Person).where(Person.email == staff_email)).all()
        assert sorted(p.kind.value for p in found) == ["citizen", "professional"]
        staff = next(p for p in found if p.kind is PersonKind.PROFESSIONAL)
        assert staff.display_name == "Mirjam de Vries" and staff.name_ct is None
        assert db.scalar(select(ChildRelation).where(
            ChildRelation.person_id == staff.id)) is None
    assert run_import(running, "ib", BAKEN, csv_bytes(rows)).counts()["unchanged"] == 1


def test_a_youth_care_organisation_enrols_the_same_child_without_moving_it(
        running_sqlite: Running) -> None:
    running = running_sqlite
    run_import(running, "ib", BAKEN, csv_bytes(CLASS))
    children = count(running, Child)
    # Without the register role at youth care: refused, and recorded.
    who = actor(running, "jeugdhulp")
    with transaction(running) as db, pytest.raises(AccessDenied):
        service.import_preview(db, running.portal.vault, requester(who), who, running.clock(),
                               JEUGDHULP, csv_bytes(CLASS))
    with running.portal.sessions() as db:
        refused = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "register.import.preview")).all()
        assert [r.outcome for r in refused] == ["denied"]
    with transaction(running) as db:
        db.add(Membership(person_id=actor(running, "jeugdhulp").person_id,
                          organisation_id=JEUGDHULP, role=Role.CARE_COORDINATOR))
    plan = run_import(running, "jeugdhulp", JEUGDHULP, csv_bytes([
        pupil("JH-1", "Eva Jansen", "2015-05-03", "", MOTHER)]))
    assert plan.ok and plan.add == [2]
    assert count(running, Child) == children
    with running.portal.sessions() as db:
        enrolment = db.scalars(select(Enrolment).where(
            Enrolment.organisation_id == JEUGDHULP)).one()
        assert db.get_one(Child, enrolment.child_id).school_id == BAKEN


def test_every_pupil_written_and_read_is_an_access_record(running_sqlite: Running) -> None:
    running = running_sqlite
    run_import(running, "ib", BAKEN, csv_bytes(CLASS))
    run_import(running, "ib", BAKEN, csv_bytes(CLASS), commit=False)
    with running.portal.sessions() as db:
        events = [(r.event_type, r.action_code, r.outcome) for r in db.scalars(
            select(AccessRecord).where(AccessRecord.event_type.like("register.%"))
            .order_by(AccessRecord.seq))]
    assert events == [("register.import", "C", "allowed"),
                      *[("register.child.create", "C", "allowed")] * 3,
                      ("register.import.preview", "R", "allowed"),
                      *[("register.import.compare", "R", "allowed")] * 3]


def test_a_failure_mid_import_leaves_nothing(running: Running) -> None:
    """A crash between two rows: the one transaction takes every row back."""
    before = snapshot(running)
    vault = running.portal.vault
    real_seal = vault.seal
    calls = {"n": 0}

    def failing_seal(*args: object, **kwargs: object) -> bytes:
        calls["n"] += 1
        if calls["n"] == 12:
            raise OSError("disk gone")
        return real_seal(*args, **kwargs)  # type: ignore[arg-type]

    vault.seal = failing_seal  # type: ignore[method-assign]
    try:
        with pytest.raises(OSError, match="disk gone"):
            run_import(running, "ib", BAKEN, csv_bytes(CLASS))
    finally:
        vault.seal = real_seal  # type: ignore[method-assign]
    assert calls["n"] == 12
    assert snapshot(running) == before


def test_a_family_member_is_found_by_email_through_the_blind_index(
        running_sqlite: Running) -> None:
    running = running_sqlite
    run_import(running, "ib", BAKEN, csv_bytes(CLASS))
    with running.portal.sessions() as db:
        found = citizen_by_email(db, running.portal.vault, running.clock(),
                                 "  Anna.Jansen@Example.NL ")
        assert found is not None and found.email == MOTHER[1]
        assert found.email_bidx != MOTHER[1] and MOTHER[1] not in (found.email_bidx or "")
        assert citizen_by_email(db, running.portal.vault, running.clock(),
                                "mentor@demo.mdo-portaal.test") is None  # staff: not family


def test_a_file_that_cannot_be_read_changes_nothing_and_says_why(
        running_sqlite: Running) -> None:
    running = running_sqlite
    before = snapshot(running)
    missing = csv_bytes(CLASS, header=("leerlingnummer", "naam", "groep"))
    plan = run_import(running, "ib", BAKEN, missing)
    assert plan.file_error is not None and plan.file_error.detail == "geboortedatum"
    broken = b'leerlingnummer;naam;geboortedatum\n1;"Eva;01-01-2015\n'
    plan = run_import(running, "ib", BAKEN, broken)
    assert plan.file_error is not None and "not a readable CSV" in plan.file_error.reason
    assert snapshot(running) == before


def test_a_pupil_who_left_is_enrolled_again_by_the_next_file(running_sqlite: Running) -> None:
    running = running_sqlite
    run_import(running, "ib", BAKEN, csv_bytes(CLASS))
    who = actor(running, "ib")
    with transaction(running) as db:
        page = service.register_page(db, running.portal.vault, requester(who), who,
                                     running.clock(), BAKEN, number="501")
        left = page.pupils[0].child_id
    with transaction(running) as db:
        service.deactivate_child(db, running.portal.vault, requester(who), who,
                                 running.clock(), BAKEN, left)
    plan = run_import(running, "ib", BAKEN, csv_bytes(CLASS))
    assert len(plan.update) == 1 and len(plan.unchanged) == 2
    with running.portal.sessions() as db:
        assert all(e.active for e in db.scalars(select(Enrolment)))


def test_the_database_refuses_a_second_family_member_with_one_address(
        running: Running) -> None:
    """Two imports at once cannot both create the same parent: the second fails whole."""
    run_import(running, "ib", BAKEN, csv_bytes(CLASS))
    with running.portal.sessions() as db:
        anna = db.scalars(select(Person).where(Person.email == MOTHER[1])).one()
        twin = Person(kind=PersonKind.CITIZEN, display_name="", email=MOTHER[1],
                      email_bidx=anna.email_bidx, active=True, created_at=running.clock())
        db.add(twin)
        with pytest.raises(IntegrityError):
            db.flush()
        db.rollback()
        staff = Person(kind=PersonKind.PROFESSIONAL, display_name="Anna", email=MOTHER[1],
                       email_bidx=anna.email_bidx, active=True, created_at=running.clock())
        db.add(staff)
        db.flush()  # the rule is about family members only
        db.rollback()
