"""People's names: the one way to read a citizen's name, and to set it.

Parents, guardians, foster parents and pupils are citizens: their names
identify a child's family, so they are sealed under a data key of their own
(``person`` owner) and ``Person.display_name`` stays empty for them.
Professionals' names stay in clear: they are in the access log by design.
A citizen row from before sealing (``name_ct`` empty) still shows its clear
name until it is next saved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from crypto import Binding, new_data_key
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
        else vault.new_key(db, "person", person.id, now)
    person.name_ct = vault.seal(key, name, person_field(person.id, "name"))
    person.display_name = ""


def name_of(db: Session, vault: Vault, person: Person) -> str:
    if person.kind is PersonKind.CITIZEN and person.name_ct is not None:
        return vault.open(db, person.name_ct, person_field(person.id, "name"))
    return person.display_name


def names_of(db: Session, vault: Vault, person_ids: Iterable[str]) -> dict[str, str]:
    """Names by person id, citizens' unsealed (the caller has decided and recorded)."""
    wanted = list(set(person_ids))
    if not wanted:
        return {}
    rows = db.execute(select(Person.id, Person.kind, Person.display_name, Person.name_ct)
                      .where(Person.id.in_(wanted))).all()
    names = {}
    for person_id, kind, display_name, name_ct in rows:
        if kind is PersonKind.CITIZEN and name_ct is not None:
            names[person_id] = vault.open(db, name_ct, person_field(person_id, "name"))
        else:
            names[person_id] = display_name
    return names


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
    if person.name_ct is not None:
        key = vault.key_for(db, person.name_ct)
    else:
        dek = new_data_key()
        wrapped = vault.provider.wrap(dek)
        row = DataKey(id=new_id(), owner_type="person", owner_id=person.id,
                      kek_version=wrapped.kek_version, wrapped=wrapped.blob, created_at=now)
        db.add(row)
        key = FieldKey(id=row.id, dek=dek)
    person.name_ct = vault.seal(key, name, person_field(person.id, "name"))
    person.display_name = ""
