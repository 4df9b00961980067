"""The chain head row: its lock, the copy a transaction works on, and the day counts.

``audit_chain_head`` is the one row every append locks (the serialisation is
described in ``portal.audit.ledger``): the last seq and its hash, the compact
range over all records, and the accesses of the newest Dutch day (earlier days
are in ``audit_day_count``). Kept apart from the ledger, which takes records
into a transaction, chains and inserts them when it commits and seals
checkpoints: reading, locking and counting the head needs none of that, and
the ledger imports this module, never the reverse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from portal.audit.chain import HASH_SIZE
from portal.audit.merkle import MerkleAccumulator
from portal.audit.models import AccessRecord, AuditChainHead, AuditDayCount
from portal.localtime import LOCAL_TIME

HEAD_ID = 1
_HEAD_KEY = "portal.audit.head"


class AuditUnavailable(SQLAlchemyError):
    """The log cannot be appended to; a database error, so the request fails closed (503)."""


@dataclass
class _Head:
    transaction: Any
    seq: int
    record_hash: bytes
    merkle: MerkleAccumulator
    checkpoint_size: int
    checkpoint_at: datetime | None
    # The accesses of the head's day by kind (allowed, break-glass, denied), and those
    # of earlier days appended in this transaction, for audit_day_count at commit.
    # Tuples, never mutated: a savepoint's snapshot is a shallow copy.
    count_day: date | None = None
    counts: tuple[int, int, int] = (0, 0, 0)
    earlier: tuple[tuple[date, tuple[int, int, int]], ...] = ()
    dirty: bool = False


def _pack(merkle: MerkleAccumulator) -> bytes:
    return b"".join(merkle.hashes)


def _unpack(size: int, packed: bytes) -> MerkleAccumulator:
    nodes = [packed[i:i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)]
    return MerkleAccumulator.from_state(size, nodes)


def _lock_head(db: Session) -> _Head:
    """The head, locked for this transaction (taken once, then kept in ``db.info``)."""
    cached = db.info.get(_HEAD_KEY)
    if isinstance(cached, _Head) and cached.transaction is db.get_transaction():
        return cached
    columns = (AuditChainHead.seq, AuditChainHead.record_hash, AuditChainHead.merkle_nodes,
               AuditChainHead.checkpoint_size, AuditChainHead.checkpoint_at,
               *_COUNT_COLUMNS)
    # Core statements on the session's connection: the ORM would otherwise
    # match every object in the session against them.
    conn = db.connection()
    if conn.dialect.name == "postgresql":
        # The row lock is held until this transaction ends.
        row = conn.execute(select(*columns).where(AuditChainHead.id == HEAD_ID)
                           .with_for_update()).one_or_none()
    else:
        # SQLite: an UPDATE first takes the database's write lock before the
        # head is read (a deferred transaction would otherwise let two
        # connections read the same head).
        row = conn.execute(update(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
                           .values(seq=AuditChainHead.seq).returning(*columns)).one_or_none()
    if row is None:
        raise AuditUnavailable("the audit chain head is missing: run `portal db upgrade`")
    head = _Head(transaction=db.get_transaction(), seq=row.seq,
                 record_hash=bytes(row.record_hash),
                 merkle=_unpack(row.seq, bytes(row.merkle_nodes)),
                 checkpoint_size=row.checkpoint_size, checkpoint_at=row.checkpoint_at,
                 count_day=row.count_day,
                 counts=(row.count_allowed, row.count_break_glass, row.count_denied))
    db.info[_HEAD_KEY] = head
    return head


_COUNT_COLUMNS = (AuditChainHead.count_day, AuditChainHead.count_allowed,
                  AuditChainHead.count_break_glass, AuditChainHead.count_denied)


def local_day(at: datetime) -> date:
    """The Dutch day of an instant (stored instants are UTC)."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(LOCAL_TIME).date()


def access_kind(outcome: str, break_glass: bool) -> int:
    """Where a record counts in the day chart: 0 allowed, 1 allowed under break-glass,
    2 denied (or any other outcome)."""
    if outcome != "allowed":
        return 2
    return 1 if break_glass else 0


def _count(head: _Head, entries: Sequence[AccessRecord]) -> None:
    """Count ``entries`` per Dutch day and kind: the head keeps its newest day; an
    older day (the head moved on, or a back-dated record) goes to audit_day_count."""
    day, counts = head.count_day, list(head.counts)
    earlier = {on: list(values) for on, values in head.earlier}
    for entry in entries:
        on = local_day(entry.occurred_at)
        kind = access_kind(entry.outcome, entry.emergency_procedure)
        if day is None or on > day:
            if day is not None and any(counts):
                moved = earlier.setdefault(day, [0, 0, 0])
                for index, value in enumerate(counts):
                    moved[index] += value
            day, counts = on, [0, 0, 0]
        if on == day:
            counts[kind] += 1
        else:
            earlier.setdefault(on, [0, 0, 0])[kind] += 1
    head.count_day, head.counts = day, (counts[0], counts[1], counts[2])
    head.earlier = tuple((on, (v[0], v[1], v[2])) for on, v in sorted(earlier.items()))


def _add_day_counts(db: Session, days: Sequence[tuple[date, tuple[int, int, int]]]) -> None:
    """Add to audit_day_count's rows (one statement: an upsert on both engines)."""
    conn = db.connection()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    add = dialect.insert(AuditDayCount)
    conn.execute(add.on_conflict_do_update(index_elements=[AuditDayCount.day], set_={
        "allowed": AuditDayCount.allowed + add.excluded.allowed,
        "break_glass": AuditDayCount.break_glass + add.excluded.break_glass,
        "denied": AuditDayCount.denied + add.excluded.denied,
    }), [{"day": on, "allowed": a, "break_glass": b, "denied": d}
         for on, (a, b, d) in days])
