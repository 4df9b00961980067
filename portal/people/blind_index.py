"""Keyed blind indexes: find a person or pupil again without storing what identifies them.

An index is HMAC-SHA256 under one portal-wide 256-bit key that lives, like
every data key, wrapped by the key-encryption key in ``data_key`` (rotation
re-wraps it without changing it, so indexes stay valid). Without the KEK the
stored indexes cannot be tested against guesses; with the database alone an
attacker learns only which rows share a value. Each kind of value has its own
label, so an e-mail's index never equals a pupil number's.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import new_data_key
from portal.people.models import Person, PersonKind
from portal.vault.models import DataKey
from portal.vault.service import Vault

# The one row that holds the index key (a fixed id: two workers creating it at
# once collide on the primary key instead of making two keys).
INDEX_KEY_ID = "b1d0e5a0-0000-4000-8000-000000000001"
OWNER_TYPE = "blind_index"


@dataclass(frozen=True)
class BlindIndex:
    key: bytes = field(repr=False)

    def _mac(self, label: str, *parts: str) -> str:
        message = "\0".join((label, *parts)).encode("utf-8")
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def email(self, address: str) -> str:
        return self._mac("email", normalise_email(address))

    def pupil_number(self, organisation_id: str, number: str) -> str:
        return self._mac("pupil_number", organisation_id, number.strip())

    def child(self, name: str, birthdate: date) -> str:
        return self._mac("child", normalise_name(name), birthdate.isoformat())


def normalise_email(address: str) -> str:
    return address.strip().lower()


def normalise_name(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).casefold()
    return " ".join(folded.split())


def blind_index(db: Session, vault: Vault, now: datetime) -> BlindIndex:
    """The portal's index key, created on first use."""
    if db.get(DataKey, INDEX_KEY_ID) is None:
        wrapped = vault.provider.wrap(new_data_key())
        db.add(DataKey(id=INDEX_KEY_ID, owner_type=OWNER_TYPE, owner_id=INDEX_KEY_ID,
                       kek_version=wrapped.kek_version, wrapped=wrapped.blob, created_at=now))
        db.flush()
    return BlindIndex(key=vault.key_by_id(db, INDEX_KEY_ID).dek)



def citizen_by_email(db: Session, vault: Vault, now: datetime, address: str) -> Person | None:
    """The registered family member with this e-mail address, found by its blind index."""
    return db.scalars(select(Person).where(
        Person.email_bidx == blind_index(db, vault, now).email(address),
        Person.kind == PersonKind.CITIZEN)).first()
