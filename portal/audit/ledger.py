"""Appending to the hash chain, one writer at a time, and sealing signed checkpoints.

A request's records join its transaction when they are made (``append_all``,
before any plaintext) and are chained and inserted when it commits (or as soon
as the transaction reads the log itself): the chain head is then held for the
insert and the commit only, not for the decryption and rendering in between.
A record that cannot be written fails the commit, and the request fails closed
with it: nothing it rendered is sent (``portal.web.endpoint``), and downloads
stream only after the commit.

Serialisation: chaining first locks the single ``audit_chain_head`` row in
the request's own transaction (``portal.audit.chain_head``). On PostgreSQL
that is ``SELECT … FOR UPDATE``: the row lock is held until the transaction
ends, so a second worker's append waits and then reads the head the first one
committed (READ COMMITTED reads the newest committed row version after the
wait); a rolled-back request releases the lock without using its numbers. On
SQLite an UPDATE of the head comes first and takes the database's write lock
before the head is read, so two connections can never read the same head.
Either way there are no forks and no gaps.

The head also carries the RFC 6962 compact range over all records, so a
checkpoint is signed over the tree as it was appended, in constant time.
Checkpoints are sealed inside the appending transaction when ``every``
records or ``interval`` have passed, and written to the export directory only
after that transaction has committed (a checkpoint for records that were
rolled back must never leave the database).

Before signing, the tree must extend every checkpoint known outside the
database (``portal.audit.anchors``); when it does not, the portal refuses to
sign and raises the alarm (``portal.audit.health``), and the append itself
still succeeds: the record is the evidence. Checkpoint files are created
exclusively and never replaced: a different note for a size already exported
is a split view (``portal.audit.checkpoint_files``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import event, select, union_all, update
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql import TextClause
from sqlalchemy.sql.util import find_tables

from portal import metrics
from portal.audit import health
from portal.audit.anchors import (
    Memory,
    NotExtended,
    newest_cosigned,
    newest_file,
    require_extension,
)
from portal.audit.chain import canonical_encoding, chain_hash, leaf_hash
from portal.audit.chain_head import (
    _COUNT_COLUMNS,
    _HEAD_KEY,
    HEAD_ID,
    _add_day_counts,
    _count,
    _Head,
    _lock_head,
    _pack,
    _unpack,
)
from portal.audit.checkpoint import sign_checkpoint
from portal.audit.checkpoint_files import SplitView, write_checkpoint_file
from portal.audit.encoding import sealed_fields
from portal.audit.models import AccessRecord, AuditChainHead, AuditCheckpoint, AuditDayCount
from portal.db import new_id

log = logging.getLogger("portal.audit")

CONFIG_KEY = "portal.audit.config"
_EXPORT_KEY = "portal.audit.exports"
_SAVEPOINT_KEY = "portal.audit.savepoints"
_SEALED_KEY = "portal.audit.on_sealed"
_PENDING_KEY = "portal.audit.pending"


@dataclass(frozen=True)
class AuditConfig:
    """What sealing needs; handed to sessions through ``Session.info`` (see ``configure``)."""

    origin: str
    key_name: str
    signing_key: Ed25519PrivateKey
    every: int = 1000
    interval: timedelta = timedelta(minutes=5)
    export_dir: Path | None = None
    # Earlier log keys (after a rotation), to read older checkpoint files with.
    verifier_keys: tuple[tuple[str, Ed25519PublicKey], ...] = ()
    # The witness's cosigner key: its cosignatures in the database are anchors too.
    witness: tuple[str, Ed25519PublicKey] | None = None
    memory: Memory = field(default_factory=Memory, compare=False, repr=False)

    def trusted(self) -> list[tuple[str, Ed25519PublicKey]]:
        return [(self.key_name, self.signing_key.public_key()), *self.verifier_keys]


def configure(factory: Any, config: AuditConfig) -> None:
    """Give every session made by ``factory`` (a sessionmaker) the audit configuration."""
    info = dict(factory.kw.get("info") or {})
    info[CONFIG_KEY] = config
    factory.configure(info=info)


def on_sealed(factory: Any, callback: Any) -> None:
    """Call ``callback()`` after a transaction that sealed a checkpoint commits
    (the witness pusher's wake-up); it must not block."""
    info = dict(factory.kw.get("info") or {})
    info[_SEALED_KEY] = callback
    factory.configure(info=info)


@event.listens_for(Session, "before_commit")
def _store_head(db: Session) -> None:
    """Chain what is pending, then write the head once per transaction, just before
    it commits (it is locked till then)."""
    write_pending(db)
    head = db.info.get(_HEAD_KEY)
    if not isinstance(head, _Head) or not head.dirty or head.transaction is not \
            db.get_transaction():
        return
    if head.earlier:
        _add_day_counts(db, head.earlier)
        head.earlier = ()
    allowed, break_glass, denied = head.counts
    db.connection().execute(
        update(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
        .values(seq=head.seq, record_hash=head.record_hash, merkle_nodes=_pack(head.merkle),
                checkpoint_size=head.checkpoint_size, checkpoint_at=head.checkpoint_at,
                count_day=head.count_day, count_allowed=allowed,
                count_break_glass=break_glass, count_denied=denied))
    head.dirty = False


def append(db: Session, entry: AccessRecord) -> AccessRecord:
    """Take ``entry`` into the caller's transaction: it gets the next seq and its
    chain hashes, and is inserted, when the transaction commits or reads the log.

    ``entry`` must carry every column of the encoding except ``seq`` and the hashes.
    If it cannot be written the commit raises: the caller then shows nothing.
    """
    append_all(db, [entry])
    return entry


@dataclass
class _Pending:
    """Records made in a transaction and not yet chained (in the order they were made)."""

    transaction: Any
    entries: list[AccessRecord]


def append_all(db: Session, entries: Sequence[AccessRecord]) -> Sequence[AccessRecord]:
    """Take ``entries`` into the caller's transaction, in their order: chained and
    inserted in one flush (one ``executemany``) when it commits or first reads the log.
    ``seq`` and the hashes are set then; the id now. As ``append`` for each."""
    if not entries:
        return entries
    for entry in entries:
        # Column defaults apply only at INSERT, after the encoding is made: fill them now.
        entry.id = entry.id or new_id()
        entry.source = entry.source or "mdo-portal"
        for flag in ("authorised", "relation_to_case", "consent_present",
                     "emergency_procedure"):
            setattr(entry, flag, bool(getattr(entry, flag)))
    transaction = db.get_transaction() or db.begin()
    pending = db.info.get(_PENDING_KEY)
    if not isinstance(pending, _Pending) or pending.transaction is not transaction:
        pending = db.info[_PENDING_KEY] = _Pending(transaction, [])
    pending.entries.extend(entries)
    return entries


def write_pending(db: Session) -> None:
    """Chain and insert the records this transaction made and has not written yet."""
    pending = db.info.get(_PENDING_KEY)
    if not isinstance(pending, _Pending) or not pending.entries \
            or pending.transaction is not db.get_transaction():
        return
    entries, pending.entries = pending.entries, []
    metrics.timed_append(_chain, db, entries)


def _chain(db: Session, entries: Sequence[AccessRecord]) -> None:
    head = _lock_head(db)
    seq, record_hash = head.seq, head.record_hash
    for entry in entries:
        seq += 1
        entry.seq = seq
        entry.prev_hash = record_hash
        entry.encoding = canonical_encoding(sealed_fields(_values(entry)))
        entry.record_hash = record_hash = chain_hash(record_hash, entry.encoding)
    db.add_all(entries)
    db.flush()
    # Only once they are written does the head move past them.
    for entry in entries:
        head.merkle.append(leaf_hash(entry.encoding))
    head.seq, head.record_hash = seq, record_hash
    _count(head, entries)
    head.dirty = True
    last = entries[-1].occurred_at
    config = db.info.get(CONFIG_KEY)
    if isinstance(config, AuditConfig) and _due(head, config, last) \
            and not _recently_refused(config, last):
        try:
            _seal(db, head, config, last)
        except NotExtended as refused:
            # The records themselves stand (they are the evidence); the DPO mail goes with them.
            health.alarm(db, last, "seal", str(refused))


def day_counts(db: Session, first: date, last: date) -> dict[date, tuple[int, int, int]]:
    """The whole log's accesses per Dutch day from ``first`` to ``last`` (allowed,
    break-glass, denied), from audit_day_count and the chain head: as many rows as
    days, however long the log. Read in one statement, so a concurrent append that
    moves the head's day into the table is seen either before or after, never half;
    what this transaction appended itself is included."""
    write_pending(db)
    table = select(AuditDayCount.day, AuditDayCount.allowed, AuditDayCount.break_glass,
                   AuditDayCount.denied).where(AuditDayCount.day.between(first, last))
    held = db.info.get(_HEAD_KEY)
    if isinstance(held, _Head) and held.transaction is db.get_transaction():
        rows = [*db.execute(table), *((on, *values) for on, values in held.earlier),
                (held.count_day, *held.counts)]
    else:
        rows = list(db.execute(union_all(
            table, select(*_COUNT_COLUMNS).where(AuditChainHead.id == HEAD_ID))))
    totals: dict[date, tuple[int, int, int]] = {}
    for on, allowed, break_glass, denied in rows:
        if on is None or not first <= on <= last:
            continue
        a, b, d = totals.get(on, (0, 0, 0))
        totals[on] = (a + allowed, b + break_glass, d + denied)
    return totals


def _values(entry: AccessRecord) -> dict[str, Any]:
    return {column.key: getattr(entry, column.key)
            for column in AccessRecord.__table__.columns}


def _due(head: _Head, config: AuditConfig, now: datetime) -> bool:
    pending = head.seq - head.checkpoint_size
    if pending <= 0:
        return False
    if pending >= config.every:
        return True
    return head.checkpoint_at is None or now - head.checkpoint_at >= config.interval


def seal(db: Session, config: AuditConfig, now: datetime) -> AuditCheckpoint | None:
    """Seal a checkpoint over everything appended so far (None when nothing is new).

    Raises NotExtended when the records no longer extend a checkpoint known outside
    the database; the caller raises the alarm (``health.alarm``) in a transaction of
    its own, as this one is rolled back.
    """
    write_pending(db)
    head = _lock_head(db)
    if head.seq == head.checkpoint_size and head.seq > 0:
        return None
    checkpoint = _seal(db, head, config, now)
    head.dirty = True
    return checkpoint


def _recently_refused(config: AuditConfig, now: datetime) -> bool:
    """After a refusal, appends retry sealing only once per interval (a proof reads records)."""
    at = config.memory.refused_at
    return at is not None and timedelta(0) <= now - at < config.interval


def _require_anchors(db: Session, head: _Head, config: AuditConfig, root: bytes) -> None:
    anchors = [newest_file(config.export_dir, config.trusted(), config.origin),
               newest_cosigned(db, config.trusted(), config.origin, config.witness),
               config.memory.witnessed_anchor()]
    for anchor in anchors:
        if anchor is not None:
            require_extension(db, anchor, head.seq, root)


def _seal(db: Session, head: _Head, config: AuditConfig, now: datetime) -> AuditCheckpoint:
    root = head.merkle.root()
    try:
        _require_anchors(db, head, config, root)
    except NotExtended as exc:
        config.memory.refused_at = now
        raise NotExtended(f"refusing to sign a checkpoint over {head.seq} records: {exc}",
                          exc.seq) from None
    config.memory.refused_at = None
    health.resolve("seal")
    note = sign_checkpoint(config.origin, head.seq, root, config.signing_key, config.key_name)
    checkpoint = AuditCheckpoint(size=head.seq, root=root, note=note, sealed_at=now,
                                 merkle_nodes=_pack(head.merkle))
    db.add(checkpoint)
    db.flush()
    head.checkpoint_size = head.seq
    head.checkpoint_at = now
    db.info.setdefault(_EXPORT_KEY, []).append((config.export_dir, head.seq, note))
    return checkpoint


def all_checkpoints(db: Session) -> list[tuple[int, str]]:
    return [(row.size, row.note) for row in db.execute(
        select(AuditCheckpoint.size, AuditCheckpoint.note).order_by(AuditCheckpoint.size))]


@event.listens_for(Session, "after_commit")
def _export_after_commit(db: Session) -> None:
    db.info.pop(_HEAD_KEY, None)
    db.info.pop(_PENDING_KEY, None)
    db.info.pop(_SAVEPOINT_KEY, None)
    exports = db.info.pop(_EXPORT_KEY, None)
    if exports and callable(db.info.get(_SEALED_KEY)):
        db.info[_SEALED_KEY]()
    for directory, size, note in exports or ():
        if directory is None:
            continue
        try:
            write_checkpoint_file(directory, size, note)
        except SplitView as exc:
            health.alarm(None, datetime.now(UTC), "split-view", str(exc))
        except OSError as exc:
            # The checkpoint is safe in the database; `portal audit
            # export-checkpoints` writes any that are missing.
            log.error("could not export audit checkpoint %d to %s: %s", size, directory,
                      exc.strerror)


@event.listens_for(Session, "after_transaction_create")
def _remember_head_at_savepoint(db: Session, transaction: Any) -> None:
    """A savepoint may roll back records appended inside it: keep the head as it was,
    and the records still pending then."""
    if not transaction.nested:
        return
    head = db.info.get(_HEAD_KEY)
    if isinstance(head, _Head):
        head = replace(head, merkle=_unpack(head.merkle.size, _pack(head.merkle)))
    pending = db.info.get(_PENDING_KEY)
    waiting = list(pending.entries) if isinstance(pending, _Pending) else []
    snapshots = db.info.setdefault(_SAVEPOINT_KEY, {})
    snapshots[id(transaction)] = (head if isinstance(head, _Head) else None, waiting)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(db: Session, previous_transaction: Any) -> None:
    if previous_transaction.nested:
        # Back to the savepoint: the numbers appended since are unused again, and
        # records made before it but written inside it are pending again.
        # A head first locked inside the savepoint is simply taken afresh.
        head, waiting = db.info.get(_SAVEPOINT_KEY, {}).pop(id(previous_transaction),
                                                            (None, []))
        if head is None:
            db.info.pop(_HEAD_KEY, None)
        else:
            db.info[_HEAD_KEY] = head
        pending = db.info.get(_PENDING_KEY)
        if isinstance(pending, _Pending):
            pending.entries = waiting
        return
    db.info.pop(_EXPORT_KEY, None)
    db.info.pop(_HEAD_KEY, None)
    db.info.pop(_SAVEPOINT_KEY, None)
    db.info.pop(_PENDING_KEY, None)


_LOG_TABLES = frozenset({"access_record", "audit_chain_head", "audit_day_count",
                         "audit_checkpoint"})


@event.listens_for(Session, "do_orm_execute")
def _write_before_reading_the_log(state: ORMExecuteState) -> None:
    """A transaction that reads the log sees the records it made itself."""
    pending = state.session.info.get(_PENDING_KEY)
    if not isinstance(pending, _Pending) or not pending.entries \
            or state.is_relationship_load or state.is_column_load:
        return
    if _touches_the_log(state.statement):
        write_pending(state.session)


def _touches_the_log(statement: Any) -> bool:
    if isinstance(statement, TextClause):
        return any(name in statement.text for name in _LOG_TABLES)
    return any(getattr(table, "name", None) in _LOG_TABLES
               for table in find_tables(statement, check_columns=True, include_aliases=True,
                                        include_joins=True, include_selects=True,
                                        include_crud=True))
