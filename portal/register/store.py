"""Reading and writing a pupil, their enrolment and their adults, sealed (no decisions here).

Callers decide and record first (``portal.register.service``); these functions
only turn rows into ciphertext and back. A child's name, birthdate, and each
enrolment's pupil number and group are sealed under the child's data key; an
adult's name under their own (``portal.people.names``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import Binding
from portal.consent.models import CustodyRecord
from portal.db import new_id
from portal.people.blind_index import BlindIndex
from portal.people.models import (
    Child,
    ChildRelation,
    Enrolment,
    Organisation,
    OrganisationKind,
    Person,
    PersonKind,
    Relation,
)
from portal.people.names import names_of, set_name
from portal.register.rows import AdultRow, PupilRow
from portal.vault.service import FieldKey, Vault, child_field


def enrolment_field(enrolment_id: str, name: str) -> Binding:
    return Binding(purpose="child-field", case_id="", object_type="enrolment",
                   object_id=enrolment_id, version=1, field=name)


@dataclass(frozen=True)
class AdultView:
    person_id: str
    name: str
    email: str
    relation: Relation
    custody_recorded: bool  # the custody form has facts for this relation


@dataclass(frozen=True)
class PupilView:
    child_id: str
    enrolment_id: str
    pupil_number: str
    name: str
    birthdate: date
    group: str
    active: bool
    adults: tuple[AdultView, ...] = ()

    def as_row(self) -> PupilRow:
        return PupilRow(self.pupil_number, self.name, self.birthdate, self.group,
                        tuple(AdultRow(a.name, a.email, a.relation) for a in self.adults))


def find_enrolment(db: Session, index: BlindIndex, organisation_id: str,
                   number: str) -> Enrolment | None:
    return db.scalars(select(Enrolment).where(
        Enrolment.organisation_id == organisation_id,
        Enrolment.pupil_number_bidx == index.pupil_number(organisation_id, number))).first()


def read_pupil(db: Session, vault: Vault, enrolment: Enrolment,
               with_adults: bool = True) -> PupilView:
    child = db.get_one(Child, enrolment.child_id)
    key = vault.key_for(db, child.name_ct)
    adults = read_adults(db, vault, child.id) if with_adults else ()
    return PupilView(
        child_id=child.id, enrolment_id=enrolment.id,
        pupil_number=vault.open(db, enrolment.pupil_number_ct,
                                enrolment_field(enrolment.id, "pupil_number"), key),
        name=vault.open(db, child.name_ct, child_field(child.id, "name"), key),
        birthdate=date.fromisoformat(vault.open(db, child.birthdate_ct,
                                                child_field(child.id, "birthdate"), key)),
        group=vault.open(db, enrolment.group_ct, enrolment_field(enrolment.id, "group"), key),
        active=enrolment.active, adults=adults)


def read_adults(db: Session, vault: Vault, child_id: str) -> tuple[AdultView, ...]:
    relations = db.execute(select(ChildRelation, Person.email)
                           .join(Person, Person.id == ChildRelation.person_id)
                           .where(ChildRelation.child_id == child_id)
                           .order_by(ChildRelation.person_id)).all()
    recorded = set(db.scalars(select(CustodyRecord.child_relation_id).where(
        CustodyRecord.child_relation_id.in_([r.id for r, _ in relations]))))
    names = names_of(db, vault, (r.person_id for r, _ in relations))
    return tuple(AdultView(r.person_id, names.get(r.person_id, ""), email or "", r.relation,
                           r.id in recorded) for r, email in relations)


class Writer:
    """Writes pupils for one organisation within the caller's transaction."""

    def __init__(self, db: Session, vault: Vault, index: BlindIndex, organisation: Organisation,
                 now: datetime) -> None:
        self.db, self.vault, self.index, self.now = db, vault, index, now
        self.organisation = organisation
        self._adults: dict[str, Person] = {}
        self._looked_up: set[str] = set()  # blind indexes already asked for, found or not

    def prefetch_adults(self, emails: Iterable[str]) -> None:
        """Load the citizens these addresses already belong to (one query for a whole file)."""
        wanted = list({self.index.email(e) for e in emails} - self._looked_up)
        for start in range(0, len(wanted), 500):  # within every engine's parameter limit
            batch = wanted[start:start + 500]
            self._looked_up.update(batch)
            for person in self.db.scalars(select(Person).where(
                    Person.email_bidx.in_(batch), Person.kind == PersonKind.CITIZEN)):
                self._adults.setdefault(person.email_bidx or "", person)

    def moved_child(self, row: PupilRow) -> Child | None:
        """The same child registered elsewhere: name, birthdate and an adult's e-mail agree.

        Only children not yet on this register; name and birthdate alone are
        not enough (two children can share them), an adult in common is.
        """
        candidates = self.db.scalars(select(Child).where(
            Child.identity_bidx == self.index.child(row.name, row.birthdate))).all()
        emails = {self.index.email(a.email) for a in row.adults}
        for child in candidates:
            enrolled_here = self.db.scalar(select(Enrolment.id).where(
                Enrolment.child_id == child.id,
                Enrolment.organisation_id == self.organisation.id))
            shared = self.db.scalar(select(Person.id).join(
                ChildRelation, ChildRelation.person_id == Person.id).where(
                ChildRelation.child_id == child.id, Person.email_bidx.in_(list(emails))))
            if enrolled_here is None and shared is not None:
                return child
        return None

    def create(self, row: PupilRow) -> str:
        """A new enrolment, for a child moving in or a new child; returns the child id."""
        moved = child = self.moved_child(row) if row.adults else None
        if child is None:
            child_id = new_id()
            key = self.vault.new_key(self.db, "child", child_id, self.now)
            child = Child(id=child_id, school_id=self.organisation.id, created_at=self.now,
                          name_ct=self.vault.seal(key, row.name, child_field(child_id, "name")),
                          birthdate_ct=self.vault.seal(key, row.birthdate.isoformat(),
                                                       child_field(child_id, "birthdate")),
                          identity_bidx=self.index.child(row.name, row.birthdate))
            self.db.add(child)
        else:
            key = self.vault.key_for(self.db, child.name_ct)
            self._seal_child(child, key, row)
        if self.organisation.kind is OrganisationKind.SCHOOL:
            child.school_id = self.organisation.id  # a move: the new school keeps custody facts
        enrolment_id = new_id()
        self.db.add(Enrolment(
            id=enrolment_id, child_id=child.id, organisation_id=self.organisation.id,
            pupil_number_ct=self.vault.seal(key, row.pupil_number,
                                            enrolment_field(enrolment_id, "pupil_number")),
            pupil_number_bidx=self.index.pupil_number(self.organisation.id, row.pupil_number),
            group_ct=self.vault.seal(key, row.group, enrolment_field(enrolment_id, "group")),
            active=True, created_at=self.now, updated_at=self.now))
        self.db.flush()
        self.set_adults(child.id, row.adults, fresh=child.id != (moved.id if moved else None))
        return child.id

    def update(self, enrolment: Enrolment, current: PupilView, row: PupilRow) -> None:
        child = self.db.get_one(Child, enrolment.child_id)
        key = self.vault.key_for(self.db, child.name_ct)
        if (current.name, current.birthdate) != (row.name, row.birthdate):
            self._seal_child(child, key, row)
        if current.pupil_number != row.pupil_number:
            enrolment.pupil_number_ct = self.vault.seal(
                key, row.pupil_number, enrolment_field(enrolment.id, "pupil_number"))
            enrolment.pupil_number_bidx = self.index.pupil_number(self.organisation.id,
                                                                  row.pupil_number)
        if current.group != row.group:
            enrolment.group_ct = self.vault.seal(key, row.group,
                                                 enrolment_field(enrolment.id, "group"))
        enrolment.active = True
        enrolment.updated_at = self.now
        self.set_adults(child.id, row.adults, current.adults)

    def _seal_child(self, child: Child, key: FieldKey, row: PupilRow) -> None:
        child.name_ct = self.vault.seal(key, row.name, child_field(child.id, "name"))
        child.birthdate_ct = self.vault.seal(key, row.birthdate.isoformat(),
                                             child_field(child.id, "birthdate"))
        child.identity_bidx = self.index.child(row.name, row.birthdate)

    def set_adults(self, child_id: str, adults: Sequence[AdultRow],
                   current: Sequence[AdultView] = (), fresh: bool = False) -> None:
        """Add or update the adults named; adults not named stay (custody has its own form).

        ``fresh``: the child was just created, so it has no relations to look for.
        """
        known = {a.person_id: a for a in current}
        for adult in adults:
            person = self.adult(adult)
            before = known.get(person.id)
            if fresh:
                self.db.add(ChildRelation(child_id=child_id, person_id=person.id,
                                          relation=adult.relation))
            elif before is None:
                exists = self.db.scalar(select(ChildRelation).where(
                    ChildRelation.child_id == child_id, ChildRelation.person_id == person.id))
                if exists is None:
                    self.db.add(ChildRelation(child_id=child_id, person_id=person.id,
                                              relation=adult.relation))
                else:
                    exists.relation = adult.relation
            elif before.relation is not adult.relation:
                relation = self.db.scalars(select(ChildRelation).where(
                    ChildRelation.child_id == child_id,
                    ChildRelation.person_id == person.id)).one()
                relation.relation = adult.relation
        self.db.flush()

    def adult(self, adult: AdultRow) -> Person:
        """The citizen with this e-mail address, created or renamed; never a second one."""
        bidx = self.index.email(adult.email)
        self.prefetch_adults([adult.email])
        person = self._adults.get(bidx)
        if person is None:
            person = Person(id=new_id(), kind=PersonKind.CITIZEN, display_name="",
                            email=adult.email, email_bidx=bidx, active=True,
                            created_at=self.now)
            self.db.add(person)
            set_name(self.db, self.vault, person, adult.name, self.now)
            self._adults[bidx] = person
        else:
            if names_of(self.db, self.vault, [person.id]).get(person.id) != adult.name:
                set_name(self.db, self.vault, person, adult.name, self.now)
            person.email = adult.email
        return person
