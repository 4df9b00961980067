"""Encrypted fields: one data key per owner (a case, a child), wrapped by the KEK.

Every field is bound to its place (owner, field, version) through the AEAD's
associated data, so a ciphertext copied to another row or field fails to
decrypt instead of showing the wrong child's data.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, event, func, select, text
from sqlalchemy.orm import Session

from crypto import (
    Binding,
    DecryptionError,
    KeyProvider,
    KeyUnavailable,
    WrappedKey,
    decrypt_record,
    encrypt_record,
    new_data_key,
    record_dek_id,
)
from portal.vault import kek_state
from portal.vault.models import DataKey, KeyShredding

# Unwrapped keys are kept in the session for one transaction (one request) only:
# never across requests or users, and an erasure takes effect at once.
_KEYS = "portal.vault.keys"
# Wrapped keys read together with the rows they seal, for the same transaction only.
_HELD = "portal.vault.held"


class KeyDestroyed(Exception):
    """The data key is gone: the content was erased."""


class KeyMismatch(DecryptionError):
    """The data key belongs to another object than the one asking for it."""


@dataclass(frozen=True)
class FieldKey:
    """An unwrapped data key, held only for the length of one request."""

    id: str
    dek: bytes = field(repr=False)  # never in a log line or a traceback


class Vault:
    def __init__(self, provider: KeyProvider) -> None:
        self.provider = provider

    def wrap(self, db: Session, dek: bytes) -> WrappedKey:
        """Wrap under a KEK version that may wrap, held in shared mode until commit.

        A version being retired (``kek_state.disable``) is never used: the
        key is wrapped again under the provider's current version; if that
        one is disabled too (a stale keyring), ``KeyUnavailable``.
        """
        for _ in range(2):
            wrapped = self.provider.wrap(dek)
            if kek_state.hold(db, wrapped.kek_version):
                return wrapped
        raise KeyUnavailable(f"KEK version {wrapped.kek_version} is disabled for wrapping")

    def new_key(self, db: Session, owner_type: str, owner_id: str, now: datetime) -> FieldKey:
        dek = new_data_key()
        wrapped = self.wrap(db, dek)
        row = DataKey(owner_type=owner_type, owner_id=owner_id, kek_version=wrapped.kek_version,
                      wrapped=wrapped.blob, created_at=now)
        db.add(row)
        db.flush()
        return FieldKey(id=row.id, dek=dek)

    def key_for(self, db: Session, blob: bytes) -> FieldKey:
        return self.key_by_id(db, record_dek_id(blob))

    def key_by_id(self, db: Session, key_id: str,
                  owner: tuple[str, str] | None = None) -> FieldKey:
        """Unwrap a data key; with ``owner`` only if it was made for that (type, id)."""
        cached = _keys(db).get(key_id)
        if cached is None:
            row = _held(db).get(key_id) or db.get(DataKey, key_id)
            if row is None:
                raise KeyDestroyed(key_id)
            cached = self._unwrapped(db, row)
        key, made_for = cached
        if owner is not None and made_for != owner:
            raise KeyMismatch("the data key belongs to another object")
        return key

    def preload(self, db: Session, key_ids: Iterable[str]) -> None:
        """Unwrap many keys with one look-up (a list's rows); missing ones stay missing."""
        cache = _keys(db)
        wanted = []
        for key_id in sorted({key_id for key_id in key_ids if key_id not in cache}):
            held = _held(db).get(key_id)  # read with the rows it seals: no query
            if held is not None:
                self._unwrapped(db, held)
            else:
                wanted.append(key_id)
        for start in range(0, len(wanted), 500):  # an IN (...) every engine takes
            batch = wanted[start:start + 500]
            for row in db.scalars(select(DataKey).where(DataKey.id.in_(batch))):
                self._unwrapped(db, row)

    def _unwrapped(self, db: Session, row: DataKey) -> tuple[FieldKey, tuple[str, str]]:
        key = FieldKey(id=row.id, dek=self.provider.unwrap(WrappedKey(row.kek_version,
                                                                       row.wrapped)))
        cached = (key, (row.owner_type, row.owner_id))
        _keys(db)[key.id] = cached
        return cached

    @staticmethod
    def destroy(db: Session, key_ids: Collection[str], now: datetime | None = None) -> None:
        """Crypto-shredding: delete the wrapped data keys; what they sealed is gone.

        On SQLite ``secure_delete`` makes the deleted rows' bytes be overwritten
        in the database file instead of lingering on free pages. Copies that
        remain elsewhere (backups, the WAL before its next checkpoint,
        PostgreSQL's dead tuples and WAL) are wrapped under the KEK versions up
        to the one of the time; a ``key_shredding`` row keeps that debt until
        the key epoch (``portal keys epoch``) has destroyed those versions.
        """
        if not key_ids:
            return
        ids = list(key_ids)
        count, newest = db.execute(select(func.count(), func.max(DataKey.kek_version))
                                   .where(DataKey.id.in_(ids))).one()
        cache, held = _keys(db), _held(db)
        for key_id in ids:
            cache.pop(key_id, None)
            held.pop(key_id, None)
        secure_delete(db)
        db.execute(delete(DataKey).where(DataKey.id.in_(ids)))
        if count:
            db.add(KeyShredding(erased_at=now or datetime.now(UTC), kek_version=newest,
                                keys=count))
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


def hold_keys(db: Session, rows: Iterable[DataKey | None]) -> None:
    """Keep wrapped keys that a query read with the rows they seal (a join on the key's
    owner or id), for this transaction only: opening those rows then needs no look-up
    of its own. Nothing is unwrapped here; a key is unwrapped when a field is opened
    (or preloaded), after its read was decided and recorded."""
    held = _held(db)
    for row in rows:
        if row is not None:
            held[row.id] = row


def _held(db: Session) -> dict[str, DataKey]:
    held = db.info.get(_HELD)
    if not isinstance(held, dict):
        held = db.info[_HELD] = {}
    return held


def _keys(db: Session) -> dict[str, tuple[FieldKey, tuple[str, str]]]:
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
        db.info.pop(_HELD, None)


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
                   name: str, categories: str | None = None) -> Binding:
    """Where a document version's field (title, text, filename, content) belongs.

    ``categories`` (binding 2): the stored categories column, bound too, so a
    database edit of who may read it makes the field fail instead."""
    return Binding(purpose="case-document", case_id=case_id, object_type=kind,
                   object_id=document_id, version=version, field=name,
                   context=access_context(categories) if categories is not None else ())


# Which associated data new rows are sealed with (the ``binding`` columns, 0018).
LOCATION_ONLY = 1
WITH_ACCESS_FACTS = 2


def access_context(categories: str, shared_with_parents: bool | None = None,
                   **more: str) -> tuple[tuple[str, str], ...]:
    """The plaintext columns that decide who may read an item, as a binding's context."""
    pairs = [("categories", categories)]
    if shared_with_parents is not None:
        pairs.append(("shared_with_parents", "1" if shared_with_parents else "0"))
    pairs.extend(sorted(more.items()))
    return tuple(pairs)
