"""Encrypted fields: one data key per owner (a case, a child), wrapped by the KEK.

Every field is bound to its place (owner, field, version) through the AEAD's
associated data, so a ciphertext copied to another row or field fails to
decrypt instead of showing the wrong child's data.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, event, select, text
from sqlalchemy.orm import Session

from crypto import (
    Binding,
    DecryptionError,
    KeyProvider,
    WrappedKey,
    decrypt_record,
    encrypt_record,
    new_data_key,
    record_dek_id,
)
from portal.vault.models import DataKey

# Unwrapped keys are kept in the session for one transaction (one request) only:
# never across requests or users, and an erasure takes effect at once.
_KEYS = "portal.vault.keys"


class KeyDestroyed(Exception):
    """The data key is gone: the content was erased."""


@dataclass(frozen=True)
class FieldKey:
    """An unwrapped data key, held only for the length of one request."""

    id: str
    dek: bytes = field(repr=False)  # never in a log line or a traceback


class Vault:
    def __init__(self, provider: KeyProvider) -> None:
        self.provider = provider

    def new_key(self, db: Session, owner_type: str, owner_id: str, now: datetime) -> FieldKey:
        dek = new_data_key()
        wrapped = self.provider.wrap(dek)
        row = DataKey(owner_type=owner_type, owner_id=owner_id, kek_version=wrapped.kek_version,
                      wrapped=wrapped.blob, created_at=now)
        db.add(row)
        db.flush()
        return FieldKey(id=row.id, dek=dek)

    def key_for(self, db: Session, blob: bytes) -> FieldKey:
        return self.key_by_id(db, record_dek_id(blob))

    def key_by_id(self, db: Session, key_id: str) -> FieldKey:
        cached = _keys(db).get(key_id)
        if cached is not None:
            return cached
        row = db.get(DataKey, key_id)
        if row is None:
            raise KeyDestroyed(key_id)
        return self._unwrapped(db, row)

    def preload(self, db: Session, key_ids: Iterable[str]) -> None:
        """Unwrap many keys with one look-up (a list's rows); missing ones stay missing."""
        cache = _keys(db)
        wanted = sorted({key_id for key_id in key_ids if key_id not in cache})
        for start in range(0, len(wanted), 500):  # an IN (...) every engine takes
            batch = wanted[start:start + 500]
            for row in db.scalars(select(DataKey).where(DataKey.id.in_(batch))):
                self._unwrapped(db, row)

    def _unwrapped(self, db: Session, row: DataKey) -> FieldKey:
        key = FieldKey(id=row.id, dek=self.provider.unwrap(WrappedKey(row.kek_version,
                                                                       row.wrapped)))
        _keys(db)[key.id] = key
        return key

    @staticmethod
    def destroy(db: Session, key_ids: Collection[str]) -> None:
        """Crypto-shredding: delete the wrapped data keys; what they sealed is gone.

        On SQLite ``secure_delete`` makes the deleted rows' bytes be overwritten
        in the database file instead of lingering on free pages. Copies that
        remain elsewhere (backups, the WAL before its next checkpoint,
        PostgreSQL's dead tuples and WAL) are wrapped under the KEK version of
        the time: retiring that version (``portal keys rotate``, then ``portal
        keys retire``) makes them useless too.
        """
        if not key_ids:
            return
        cache = _keys(db)
        for key_id in key_ids:
            cache.pop(key_id, None)
        secure_delete(db)
        db.execute(delete(DataKey).where(DataKey.id.in_(list(key_ids))))
        db.flush()

    @staticmethod
    def seal(key: FieldKey, text: str, binding: Binding) -> bytes:
        return encrypt_record(key.dek, key.id, text.encode("utf-8"), binding)

    def open(self, db: Session, blob: bytes, binding: Binding,
             key: FieldKey | None = None) -> str:
        key = key or self.key_for(db, blob)
        try:
            return decrypt_record(key.dek, blob, binding).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecryptionError("field is not UTF-8") from exc


def _keys(db: Session) -> dict[str, FieldKey]:
    cache = db.info.get(_KEYS)
    if not isinstance(cache, dict):
        cache = db.info[_KEYS] = {}
    return cache


@event.listens_for(Session, "after_transaction_end")
def _forget_keys(db: Session, transaction: Any) -> None:
    """The end of the request's transaction (commit or rollback) ends the keys'
    life in memory; a flush's inner transaction does not."""
    if transaction.parent is None:
        db.info.pop(_KEYS, None)


def secure_delete(db: Session) -> None:
    """Make SQLite overwrite what this connection deletes (PostgreSQL: see ``destroy``)."""
    if db.get_bind().dialect.name == "sqlite":
        db.execute(text("PRAGMA secure_delete = ON"))


def case_field(case_id: str, name: str, version: int = 1) -> Binding:
    return Binding(purpose="case-field", case_id=case_id, object_type="case",
                   object_id=case_id, version=version, field=name)


def child_field(child_id: str, name: str) -> Binding:
    return Binding(purpose="child-field", case_id="", object_type="child",
                   object_id=child_id, version=1, field=name)


def document_field(case_id: str, kind: str, document_id: str, version: int,
                   name: str) -> Binding:
    """Where a document version's field (title, text, filename, content) belongs."""
    return Binding(purpose="case-document", case_id=case_id, object_type=kind,
                   object_id=document_id, version=version, field=name)
