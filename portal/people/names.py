"""People's names: the one way to read a citizen's name, and to set it.

Parents, guardians, foster parents and pupils are citizens: their names
identify a child's family, so they are sealed under a data key of their own
(``person`` owner) and ``Person.display_name`` stays empty for them.
Professionals' names stay in clear: they are in the access log by design.
A citizen row from before sealing (``name_ct`` empty) still shows its clear
name until it is next saved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from crypto import Binding, WrappedKey, new_data_key, record_dek_id
from portal.db import new_id
from portal.people.models import Person, PersonKind
from portal.vault.models import DataKey
from portal.vault.service import FieldKey, Vault

_GUARD_KEY = "portal.people.names.guard"


def person_field(person_id: str, name: str) -> Binding:
    return Binding(purpose="person-field", case_id="", object_type="person",
                   object_id=person_id, version=1, field=name)


def set_name(db: Session, vault: Vault, person: Person, name: str, now: datetime) -> None:
    """Store ``name`` for ``person``: sealed for a citizen, in clear for a professional."""
    if person.kind is PersonKind.PROFESSIONAL:
        person.display_name = name
        return
    key = vault.key_for(db, person.name_ct) if person.name_ct is not None \
        else add_key(db, vault, "person", person.id, now)
    person.name_ct = vault.seal(key, name, person_field(person.id, "name"))
    person.display_name = ""


def name_of(db: Session, vault: Vault, person: Person) -> str:
    if person.kind is PersonKind.CITIZEN and person.name_ct is not None:
        return vault.open(db, person.name_ct, person_field(person.id, "name"))
    return person.display_name


def names_of(db: Session, vault: Vault, person_ids: Iterable[str],
             known: Mapping[str, Person] | None = None) -> dict[str, str]:
    """Names by person id, citizens' unsealed (the caller has decided and recorded).

    ``known``: people this transaction already read (with their name keys held,
    ``portal.vault.service.hold_keys``); only the others are looked up."""
    known = known or {}
    wanted = list(set(person_ids))
    missing = [person_id for person_id in wanted if person_id not in known]
    rows = [(p.id, p.kind, p.display_name, p.name_ct)
            for p in (known[person_id] for person_id in wanted if person_id in known)]
    rows += [(person_id, kind, display_name, name_ct)
             for batch in chunks(missing) for person_id, kind, display_name, name_ct
             in db.execute(select(Person.id, Person.kind, Person.display_name, Person.name_ct)
                           .where(Person.id.in_(batch)))]
    sealed = [name_ct for _, kind, _, name_ct in rows
              if kind is PersonKind.CITIZEN and name_ct is not None]
    vault.preload(db, (record_dek_id(name_ct) for name_ct in sealed))
    names = {}
    for person_id, kind, display_name, name_ct in rows:
        if kind is PersonKind.CITIZEN and name_ct is not None:
            names[person_id] = vault.open(db, name_ct, person_field(person_id, "name"))
        else:
            names[person_id] = display_name
    return names


def chunks(ids: Sequence[str], size: int = 500) -> Iterator[list[str]]:
    """``ids`` in slices an IN (...) of every engine takes."""
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


def unwrap_keys(db: Session, vault: Vault, blobs: Iterable[bytes]) -> dict[str, FieldKey]:
    """The data keys of many sealed fields, read in one query per 500 and unwrapped.

    A key that is gone is simply absent: ``Vault.open`` then looks for it and
    raises ``KeyDestroyed`` as for a single field.
    """
    wanted = list({record_dek_id(blob) for blob in blobs})
    return {row.id: FieldKey(id=row.id, dek=vault.provider.unwrap(
                WrappedKey(row.kek_version, row.wrapped)))
            for batch in chunks(wanted)
            for row in db.scalars(select(DataKey).where(DataKey.id.in_(batch)))}


def seal_citizen_names(factory: sessionmaker[Session], vault: Vault,
                       clock: Callable[[], datetime]) -> None:
    """Seal any clear citizen name at flush, whichever code wrote it.

    Login provisioning writes the IdP's ``name`` claim into ``display_name``
    for everyone; for a citizen that must not reach the database in clear.
    Every session made by ``factory`` seals such a name into ``name_ct`` and
    empties ``display_name`` in the same flush.
    """
    info = dict(factory.kw.get("info") or {})
    info[_GUARD_KEY] = (vault, clock)
    factory.configure(info=info)


@event.listens_for(Session, "before_flush")
def _seal_before_flush(db: Session, _context: Any, _instances: Any) -> None:
    guard = db.info.get(_GUARD_KEY)
    if guard is None:
        return
    vault, clock = guard
    for person in [*db.new, *db.dirty]:
        if isinstance(person, Person) and person.kind is PersonKind.CITIZEN \
                and person.display_name:
            _seal_in_flush(db, vault, person, person.display_name, clock())


def _seal_in_flush(db: Session, vault: Vault, person: Person, name: str,
                   now: datetime) -> None:
    # Inside a flush nothing may flush again (Vault.new_key does): the key row
    # is only added, and goes out with this flush.
    if person.id is None:
        person.id = new_id()  # the binding names the person
    key = vault.key_for(db, person.name_ct) if person.name_ct is not None \
        else add_key(db, vault, "person", person.id, now)
    person.name_ct = vault.seal(key, name, person_field(person.id, "name"))
    person.display_name = ""


def add_key(db: Session, vault: Vault, owner_type: str, owner_id: str,
            now: datetime) -> FieldKey:
    """A new data key, added to the session but not flushed (``Vault.new_key`` flushes):
    for a flush in progress, and for imports that write thousands in one flush each."""
    dek = new_data_key()
    wrapped = vault.provider.wrap(dek)
    row = DataKey(id=new_id(), owner_type=owner_type, owner_id=owner_id,
                  kek_version=wrapped.kek_version, wrapped=wrapped.blob, created_at=now)
    db.add(row)
    return FieldKey(id=row.id, dek=dek)
