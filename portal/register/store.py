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

from crypto import Binding, record_dek_id
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
from portal.people.names import add_key, chunks, names_of, set_name, unwrap_keys
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


def find_enrolments(db: Session, index: BlindIndex, organisation_id: str,
                    numbers: Iterable[str]) -> dict[str, Enrolment]:
    """The enrolments with these pupil numbers, by number (a whole file in a few queries)."""
    by_index = {index.pupil_number(organisation_id, n): n for n in numbers}
    return {by_index[e.pupil_number_bidx]: e for batch in chunks(list(by_index))
            for e in db.scalars(select(Enrolment).where(
                Enrolment.organisation_id == organisation_id,
                Enrolment.pupil_number_bidx.in_(batch)))}


def read_pupil(db: Session, vault: Vault, enrolment: Enrolment,
               with_adults: bool = True) -> PupilView:
    return read_pupils(db, vault, [enrolment], with_adults)[enrolment.id]


def read_pupils(db: Session, vault: Vault, enrolments: Sequence[Enrolment],
                with_adults: bool = True) -> dict[str, PupilView]:
    """Unseal many pupils at once (by enrolment id): a few queries, not a few per pupil."""
    children = {c.id: c for batch in chunks([e.child_id for e in enrolments])
                for c in db.scalars(select(Child).where(Child.id.in_(batch)))}
    keys = unwrap_keys(db, vault, (c.name_ct for c in children.values()))
    adults = read_adults(db, vault, list(children)) if with_adults else {}
    views = {}
    for enrolment in enrolments:
        child = children[enrolment.child_id]
        key = keys.get(record_dek_id(child.name_ct))
        views[enrolment.id] = PupilView(
            child_id=child.id, enrolment_id=enrolment.id,
            pupil_number=vault.open(db, enrolment.pupil_number_ct,
                                    enrolment_field(enrolment.id, "pupil_number"), key),
            name=vault.open(db, child.name_ct, child_field(child.id, "name"), key),
            birthdate=date.fromisoformat(vault.open(db, child.birthdate_ct,
                                                    child_field(child.id, "birthdate"), key)),
            group=vault.open(db, enrolment.group_ct, enrolment_field(enrolment.id, "group"),
                             key),
            active=enrolment.active, adults=adults.get(child.id, ()))
    return views


def read_adults(db: Session, vault: Vault,
                child_ids: Sequence[str]) -> dict[str, tuple[AdultView, ...]]:
    """The adults around each child, by child id."""
    relations = [row for batch in chunks(child_ids) for row in db.execute(
        select(ChildRelation, Person.email).join(Person, Person.id == ChildRelation.person_id)
        .where(ChildRelation.child_id.in_(batch)).order_by(ChildRelation.person_id))]
    recorded = {found for batch in chunks([r.id for r, _ in relations])
                for found in db.scalars(select(CustodyRecord.child_relation_id).where(
                    CustodyRecord.child_relation_id.in_(batch)))}
    names = names_of(db, vault, (r.person_id for r, _ in relations))
    found: dict[str, list[AdultView]] = {}
    for relation, email in relations:
        found.setdefault(relation.child_id, []).append(AdultView(
            relation.person_id, names.get(relation.person_id, ""), email or "",
            relation.relation, relation.id in recorded))
    return {child_id: tuple(views) for child_id, views in found.items()}


class Writer:
    """Writes pupils for one organisation within the caller's transaction."""

    def __init__(self, db: Session, vault: Vault, index: BlindIndex, organisation: Organisation,
                 now: datetime) -> None:
        self.db, self.vault, self.index, self.now = db, vault, index, now
        self.organisation = organisation
        self._adults: dict[str, Person] = {}
        self._looked_up: set[str] = set()  # blind indexes already asked for, found or not
        self._identities: dict[str, list[Child]] = {}  # children already registered, by index
        self._names: dict[str, str] = {}  # each adult's name as this import leaves it

    def prefetch_children(self, rows: Iterable[PupilRow]) -> None:
        """Children registered anywhere under these rows' identities (one query per 500)."""
        wanted = list({self.index.child(r.name, r.birthdate) for r in rows} - set(self._identities))
        for identity in wanted:
            self._identities[identity] = []
        for batch in chunks(wanted):
            for child in self.db.scalars(select(Child).where(Child.identity_bidx.in_(batch))):
                self._identities[child.identity_bidx or ""].append(child)

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
        identity = self.index.child(row.name, row.birthdate)
        if identity in self._identities:
            candidates = self._identities[identity]
        else:
            candidates = list(self.db.scalars(select(Child).where(
                Child.identity_bidx == identity)))
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
            key = add_key(self.db, self.vault, "child", child_id, self.now)
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
        for adult in row.adults:
            self.adult(adult)
        # One flush for the rows others point at (no relationship() tells the
        # unit of work the order); the enrolment and relations follow with the
        # caller's next flush.
        self.db.flush()
        enrolment_id = new_id()
        self.db.add(Enrolment(
            id=enrolment_id, child_id=child.id, organisation_id=self.organisation.id,
            pupil_number_ct=self.vault.seal(key, row.pupil_number,
                                            enrolment_field(enrolment_id, "pupil_number")),
            pupil_number_bidx=self.index.pupil_number(self.organisation.id, row.pupil_number),
            group_ct=self.vault.seal(key, row.group, enrolment_field(enrolment_id, "group")),
            active=True, created_at=self.now, updated_at=self.now))
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
            # Unsealed once per import: siblings name the same parent many times.
            if bidx not in self._names:
                self._names[bidx] = names_of(self.db, self.vault, [person.id])[person.id]
            if self._names[bidx] != adult.name:
                set_name(self.db, self.vault, person, adult.name, self.now)
            if person.email != adult.email:
                person.email = adult.email
        self._names[bidx] = adult.name
        return person
