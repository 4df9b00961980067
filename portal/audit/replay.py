"""Verifying the access log as stored: the chain, the checkpoints, and the columns.

:func:`verify_database` streams ``access_record`` in ``seq`` order into
:func:`portal.audit.verify.verify_log` (chain, sequence numbers, Merkle roots
against every signed checkpoint) and, on the way, checks that each row's
searchable columns still say what its sealed encoding says. The first problem
found, by position in the log, is reported.

Checkpoints come from the database and from copies kept outside it
(``PORTAL_AUDIT_CHECKPOINT_DIR``, ``portal audit export-checkpoints``, the
witness's latest cosigned checkpoint): only those copies catch an
administrator who cuts off the tail of the log *and* deletes the checkpoints
that covered it. After the replay the chain head row must agree with the last
record, and no outside copy may know a newer checkpoint than the database.
Without any outside copy the report says plainly that the tail cannot be
proven complete.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine, func, select

from portal.audit.encoding import (
    ROW_COLUMNS,
    RawRowEncoder,
    row_changes,
    row_matches,
    sealed_sql,
)
from portal.audit.models import AccessRecord, AuditChainHead, AuditCheckpoint
from portal.audit.verify import Problem, ProblemKind, StoredRecord, verify_log

BATCH = 5000


@dataclass(frozen=True)
class CheckpointSource:
    """A checkpoint note and where it came from (for the report); ``external`` when it
    comes from outside the database (a file, the witness)."""

    note: str
    label: str
    external: bool = False


@dataclass
class Report:
    ok: bool
    records: int
    records_checked: int
    checkpoints: Sequence[CheckpointSource]
    checkpoints_checked: int
    problem: Problem | None = None
    changed_columns: Sequence[str] = field(default_factory=list)
    caveat: str | None = None

    def describe(self) -> str:
        """One line for the operator: the first problem and where it is."""
        if self.problem is None:
            line = (f"the access log is intact: {self.records_checked} records, "
                    f"{self.checkpoints_checked} signed checkpoints verified")
            return f"{line}; {self.caveat}" if self.caveat else line
        where = f"record {self.problem.seq}" if self.problem.seq is not None else "checkpoints"
        text = f"{self.problem.kind.value.upper()} at {where}: {self.problem.message}"
        numbers = [int(part[1:]) for part in self.problem.message.replace(":", " ").split()
                   if part.startswith("#") and part[1:].isdigit()]
        for number in numbers:
            if 1 <= number <= len(self.checkpoints):
                text += f" [checkpoint #{number} is {self.checkpoints[number - 1].label}]"
        return text


def database_checkpoints(engine: Engine) -> list[CheckpointSource]:
    with engine.connect() as conn:
        rows = conn.execute(select(AuditCheckpoint.size, AuditCheckpoint.note)
                            .order_by(AuditCheckpoint.size)).all()
    return [CheckpointSource(note, f"the database's checkpoint for {size} records")
            for size, note in rows]


def file_checkpoints(directory: Path) -> list[CheckpointSource]:
    return [CheckpointSource(path.read_text(encoding="utf-8"), f"the file {path}", external=True)
            for path in sorted(directory.glob("checkpoint-*.txt"))]


def raw_cursor(conn: Connection, sql: str, name: str) -> Any:
    """A DBAPI cursor over ``sql``: a server-side (named) cursor in binary format on
    PostgreSQL (a large log streams in batches, and bytea is not hex-encoded and
    decoded on the way), SQLite's own cursor otherwise. Both drivers return
    ``bytes`` for the blob columns."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    if conn.dialect.name == "postgresql":
        # Timestamps come back in UTC, the form RawRowEncoder slices without converting.
        conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
        cursor = raw.cursor(name=name, binary=True)
    else:
        cursor = raw.cursor()
    cursor.execute(sql)
    return cursor


def _exact_changes(conn: Connection, seq: int) -> list[str]:
    """The exact column check of one record, through the ORM's column types: for the
    rare row the raw fast path cannot decide (or that does not match)."""
    columns = [getattr(AccessRecord, name) for name in ROW_COLUMNS]
    row = conn.execute(select(*columns, AccessRecord.encoding)
                       .where(AccessRecord.seq == seq)).one()
    encoding = bytes(row[-1])
    values = row[:-1]
    if row_matches(values, encoding):
        return []
    return row_changes(values, encoding)


CHAIN_COLUMNS = ("seq", "encoding", "prev_hash", "record_hash")
# The raw rows RawRowEncoder reads: the chain's columns, then the ROW_COLUMNS (module
# constants only: no input reaches this text).
COLUMNS_SQL = f"SELECT {', '.join(CHAIN_COLUMNS + ROW_COLUMNS)} FROM access_record ORDER BY seq"  # noqa: S608
_ROWS_SQL = f"SELECT {', '.join(CHAIN_COLUMNS + ROW_COLUMNS)} FROM access_record"  # noqa: S608


def _unconfirmed_sql(dialect: str, last: int) -> str:
    """The sequence numbers of the records up to ``last`` whose stored encoding the
    database's own rebuild from the columns (``sealed_sql``) does not confirm; NULL
    (a value not in the form the portal writes) counts as not confirmed."""
    rebuilt = sealed_sql(dialect)
    unconfirmed = (f"(CAST({rebuilt} AS BLOB) = encoding) IS NOT 1" if dialect == "sqlite"
                   else f"(convert_to({rebuilt}, 'UTF8') = encoding) IS NOT TRUE")
    return (f"SELECT seq FROM access_record WHERE seq <= {int(last)} "  # noqa: S608
            f"AND {unconfirmed} ORDER BY seq")


class _ColumnCheck:
    """The searchable columns against the sealed encodings, on its own connection in a
    thread beside the chain's replay.

    Three steps, each only for the rows the one before could not confirm: the
    database rebuilds each encoding from the columns and compares it
    (``sealed_sql``: only the unconfirmed rows' numbers come back, so the whole
    comparison runs in the database, outside the GIL: SQLite's C code, PostgreSQL's
    own process); the rows it does not confirm (non-ASCII text, say) are read as raw
    tuples and rebuilt with :class:`RawRowEncoder`; a row whose bytes still differ
    is checked the exact way (:func:`_exact_changes`) before it counts as changed.
    It stops at the first change (the report names the first one) or when told to.
    """

    def __init__(self, engine: Engine, last: int) -> None:
        self.first_change: list[tuple[int, list[str]]] = []
        self.failure: BaseException | None = None
        self._engine = engine
        self._last = last
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-verify-columns",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with self._engine.connect() as conn:
                cursor = raw_cursor(conn, _unconfirmed_sql(conn.dialect.name, self._last),
                                    "audit_verify_unconfirmed")
                encode = RawRowEncoder(start=len(CHAIN_COLUMNS)).encode
                try:
                    while not self._stop.is_set() and (batch := cursor.fetchmany(BATCH)):
                        _check_raw(conn, self._engine, [row[0] for row in batch], encode,
                                   self.first_change)
                        if self.first_change:
                            return
                finally:
                    cursor.close()
        except BaseException as exc:  # re-raised by result(): a check that died found nothing
            self.failure = exc

    def result(self) -> list[tuple[int, list[str]]]:
        """Wait for the check: the first changed record and its columns, if any."""
        self._thread.join()
        if self.failure is not None:
            raise self.failure
        return self.first_change

    def stop(self) -> None:
        """Stop the check at its next batch (nothing it could find would be reported)."""
        self._stop.set()
        self._thread.join()


def _check_raw(conn: Connection, engine: Engine, seqs: list[int],
               encode: Callable[[Any], bytes | None],
               first_change: list[tuple[int, list[str]]]) -> None:
    """The rows the database did not confirm, as raw tuples through RawRowEncoder; the
    first that still differs is checked the exact way, on a connection of its own (a
    statement through SQLAlchemy begins a transaction, on SQLite the portal's
    ``BEGIN IMMEDIATE``: it ends with that check instead of holding the write lock
    for the rest of the replay)."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        marks = ", ".join("?" if conn.dialect.name == "sqlite" else "%s" for _ in seqs)
        cursor.execute(f"{_ROWS_SQL} WHERE seq IN ({marks}) ORDER BY seq", seqs)
        for row in cursor.fetchall():
            if encode(row) != bytes(row[1]):
                with engine.connect() as exact:
                    changed = _exact_changes(exact, row[0])
                if changed:
                    first_change.append((row[0], changed))
                    return
    finally:
        cursor.close()


def _count_and_last(conn: Connection) -> tuple[int, int]:
    """How many records and the highest number, read through the driver: on SQLite a
    statement through SQLAlchemy would begin the portal's ``BEGIN IMMEDIATE`` and hold
    the write lock for the whole replay; a plain read in WAL mode blocks no writer."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute("SELECT count(*), max(seq) FROM access_record")
        total, last = cursor.fetchone() or (0, 0)
    finally:
        cursor.close()
    return total or 0, last or 0


def _rows_chain_only(conn: Connection) -> Generator[StoredRecord]:
    """Only what the chain needs, straight from the driver's cursor: the fast path.

    SQLAlchemy's result rows cost as much as the hashing here, so this reads
    the DBAPI cursor itself (:func:`raw_cursor`).
    """
    cursor = raw_cursor(
        conn, "SELECT seq, encoding, prev_hash, record_hash FROM access_record ORDER BY seq",
        "audit_verify")
    try:
        make = StoredRecord._make
        while batch := cursor.fetchmany(BATCH):
            yield from map(make, batch)
    finally:
        cursor.close()


def verify_database(engine: Engine, keys: Sequence[tuple[str, Ed25519PublicKey]],
                    checkpoints: Sequence[CheckpointSource], *, origin: str | None = None,
                    columns: bool = True,
                    progress: Callable[[int, int], None] | None = None,
                    progress_every: int = 50_000) -> Report:
    """Replay the whole log from ``engine``; see the module docstring.

    ``columns=False`` skips the check of the searchable columns against the
    sealed encodings (several times faster; the chain and the checkpoints are
    verified all the same, so a change to what was sealed is still found).
    """
    with engine.connect() as conn:
        total, last = _count_and_last(conn)
        check = _ColumnCheck(engine, last) if columns else None
        try:
            stored = _rows_chain_only(conn)
            outcome = verify_log(stored, [c.note for c in checkpoints], keys, origin=origin,
                                 progress=(lambda n: progress(n, total)) if progress else None,
                                 progress_every=progress_every)
            stored.close()
        except BaseException:
            if check is not None:
                check.stop()
            raise
    first_change: list[tuple[int, list[str]]] = []
    if check is not None:
        if outcome.problem is None or (outcome.problem.seq or 0) > 1:
            first_change = check.result()
        else:
            check.stop()  # a forged checkpoint or a break at record 1 is reported first
    report = Report(ok=outcome.ok, records=total, records_checked=outcome.records_checked,
                    checkpoints=checkpoints, checkpoints_checked=outcome.checkpoints_checked,
                    problem=outcome.problem)
    if first_change:
        seq, changed = first_change[0]
        chain_first = outcome.problem.seq if outcome.problem is not None else None
        if chain_first is not None and chain_first <= seq:
            return report
        if outcome.problem is not None and outcome.problem.seq is None:
            return report  # a forged checkpoint is reported first
        report.ok = False
        report.changed_columns = changed
        report.problem = Problem(
            ProblemKind.CHANGED, seq,
            f"record {seq} was changed: its column(s) {', '.join(changed)} no longer match "
            "what was sealed in the chain")
    return report


def _size_of(note: str) -> int:
    lines = note.split("\n")
    return int(lines[1]) if len(lines) > 1 and lines[1].isdigit() else 0


def _head_problem(conn: Connection, records: int) -> tuple[Problem | None, int]:
    """The chain head row against the last record: same number, same hash; and how many
    records the portal appended while the replay ran (they are all there, up to the
    head: a cut tail is not). The head is then checked against the newest of them."""
    head = conn.execute(select(AuditChainHead.seq, AuditChainHead.record_hash)).first()
    if head is None:
        return None, 0
    appended = 0
    if head.seq > records and conn.scalar(
            select(func.count()).select_from(AccessRecord).where(
                AccessRecord.seq > records, AccessRecord.seq <= head.seq)) == head.seq - records:
        appended, records = head.seq - records, head.seq
    return _head_mismatch(conn, head, records), appended


def _head_mismatch(conn: Connection, head: Any, records: int) -> Problem | None:
    if head.seq > records:
        missing = f"record {records + 1}" if head.seq == records + 1 else \
            f"records {records + 1}–{head.seq}"
        return Problem(ProblemKind.TRUNCATED, records + 1,
                       f"the chain head says the log has {head.seq} records but it ends at "
                       f"record {records}: {missing} "
                       f"{'was' if head.seq == records + 1 else 'were'} deleted")
    if head.seq < records:
        return Problem(ProblemKind.INSERTED, head.seq + 1,
                       f"the log has {records} records but the chain head says {head.seq}: "
                       f"records from {head.seq + 1} on were added outside the portal")
    last = conn.scalar(select(AccessRecord.record_hash).where(AccessRecord.seq == records)) \
        if records else None
    if last is not None and bytes(last) != bytes(head.record_hash):
        return Problem(ProblemKind.CHANGED, records,
                       f"record {records} does not match the chain head's hash: it was "
                       "changed or replaced")
    return None


def tail_checks(engine: Engine, report: Report) -> Report:
    """After a clean replay: the chain head, outside copies newer than the database's
    checkpoints, and what cannot be proven without any outside copy."""
    if not report.ok:
        return report
    with engine.connect() as conn:
        problem, appended = _head_problem(conn, report.records_checked)
    if problem is None:
        inside = max((_size_of(c.note) for c in report.checkpoints if not c.external),
                     default=0)
        outside = [c for c in report.checkpoints if c.external]
        newest = max(outside, key=lambda c: _size_of(c.note), default=None)
        if newest is not None and _size_of(newest.note) < report.records_checked:
            first = _size_of(newest.note) + 1
            report.caveat = (
                f"records {first}–{report.records_checked}, after the newest checkpoint "
                "outside the database, rest on the hash chain alone until the next one")
        if newest is not None and _size_of(newest.note) > inside:
            problem = Problem(
                ProblemKind.DELETED, inside + 1,
                f"{newest.label} holds a checkpoint for {_size_of(newest.note)} records but "
                f"the database's newest checkpoint covers {inside}: checkpoints covering "
                f"records from {inside + 1} on were deleted from the database")
        elif newest is None:
            report.caveat = (
                f"no checkpoint from outside the database (checkpoint directory or witness) "
                f"was checked, so the tail after the last checkpoint (record {inside}) cannot "
                "be proven: records deleted together with their checkpoints would not show")
        if appended:
            verified = f"records 1–{report.records_checked} verified"
            added = (f"record {report.records_checked + 1}" if appended == 1 else
                     f"records {report.records_checked + 1}–{report.records_checked + appended}")
            note = (f"{verified}; {added}, appended while the check ran, "
                    "will be verified by the next run")
            report.caveat = f"{report.caveat}; {note}" if report.caveat else note
    if problem is not None:
        report.ok = False
        report.problem = problem
    return report
