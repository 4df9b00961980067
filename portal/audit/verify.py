"""Replay and verify the access log: hash chain, sequence numbers and signed checkpoints.

:func:`verify_log` streams the stored records once, in ``seq`` order, keeping
O(log n) state (plus two small fixed-size windows used only to explain a
failure). For every record it checks, in this order:

1. the sequence number is the next one (``seq`` starts at 1 and is contiguous);
2. ``prev_hash`` equals the previous record's ``record_hash`` (``GENESIS`` for
   record 1);
3. ``record_hash == chain_hash(prev_hash, encoding)``;

and it appends ``leaf_hash(encoding)`` to an RFC 6962 Merkle accumulator. When
the number of records reaches the size of a signed checkpoint, the accumulated
root must equal the checkpoint's root. After the last record, a checkpoint
larger than the log means its tail was cut off.

Checkpoints are opened (signature and format checked) before the replay; one
that does not verify stops the verification with ``bad_checkpoint``. Two valid
checkpoints for the same size with different roots (the log key signed two
histories) are ``bad_checkpoint`` too.

Verification stops at the first problem: after it, nothing later can be trusted.

How a problem is classified (best effort)
-----------------------------------------

The cryptography says *that* something is wrong and from which record on; the
*kind* is an inference from the shape of the damage. When the first check fails
the verifier looks at up to :data:`LOOKAHEAD` following records and the hashes of
the last :data:`HISTORY` verified records, and applies the first matching rule:

Sequence numbers (the input is supposed to be sorted by ``seq``):

* ``seq`` jumps forward past ``E`` (the expected number): if record ``E`` shows up
  shortly afterwards -> **reordered** at ``E``; otherwise -> **deleted** at ``E``
  (records ``E .. seq-1`` are missing).
* ``seq`` repeats the previous number -> **inserted** (a second record with that
  number); ``seq`` goes further back -> **reordered** at that ``seq``.

Hashes, with the sequence number as expected (record ``E``):

* the link to record ``E-1`` is intact but the record's own hash is wrong: if the
  next record links to ``E-1`` (skipping this one) -> **inserted** at ``E``;
  otherwise -> **changed** at ``E`` ("its hash does not match").
* the link is broken and ``prev_hash`` is the hash of one of the *following*
  records -> **reordered** at ``E`` (a swap with ``E+1`` is named as such).
* a following record links to ``E-1`` -> record(s) from ``E`` on were **inserted**.
* ``prev_hash`` is the hash of an *earlier* verified record ``j`` -> records
  ``j+1 .. E-1`` were **inserted**.
* the record is not even self-consistent -> **changed** at ``E``.
* otherwise the record is self-consistent but follows an unknown record. That
  is what a change of record ``E-1`` with recomputed hashes looks like, so it is
  reported as **changed** at ``E-1``; the message adds that, had the attacker
  recomputed the chain over several records, the change may lie anywhere after
  the last matching checkpoint. It is also what deleting records between ``E-1``
  and ``E`` and renumbering the rest looks like; the two cannot be told apart
  from the chain. When record ``E-1`` is vouched for by a signed checkpoint (or
  ``E`` is 1), the change explanation is impossible and it is reported as
  **deleted** at ``E``.

Checkpoints:

* the chain is intact but the Merkle root at a checkpoint's size differs: some
  record after the previous matching checkpoint was changed, inserted, deleted or
  reordered *and the hash chain recomputed*. The verifier first reads a few more
  records: if the chain breaks right after the checkpoint in a way that explains
  a record inside the checkpoint (e.g. the last covered record was changed), that
  more precise problem is reported. Otherwise -> **changed**, with ``seq`` the
  first record of the suspect range and the range in the message.
* the log ends before the largest checkpoint's size -> **truncated** at the first
  missing ``seq``.

Limits: records after the last checkpoint are protected only by the hash chain,
which anyone with write access can recompute; removing the tail *and* the
checkpoints that cover it is only detected if the checkpoints come from a copy
the attacker cannot edit. ``problem.seq`` is ``None`` for an unreadable or
forged checkpoint.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import islice
from typing import NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from portal.audit.chain import CHAIN_DOMAIN, GENESIS, HASH_SIZE
from portal.audit.checkpoint import Checkpoint, CheckpointError, open_checkpoint_any
from portal.audit.merkle import EMPTY_ROOT, MerkleAccumulator

__all__ = [
    "HISTORY",
    "LOOKAHEAD",
    "Problem",
    "ProblemKind",
    "StoredRecord",
    "VerifyResult",
    "verify_log",
]

LOOKAHEAD = 256
"""How many records after a failure are read to classify it."""

HISTORY = 256
"""How many recent record hashes are remembered to recognise inserted records."""

_sha256 = hashlib.sha256
_LEAF_PREFIX = b"\x00"


class StoredRecord(NamedTuple):
    """One access record as stored: its position, encoding and chain hashes.

    A named tuple, not a dataclass: the verifier builds a million of these
    straight from database rows (``StoredRecord._make``), and tuples are the
    cheapest immutable record Python has.
    """

    seq: int
    encoding: bytes
    prev_hash: bytes
    record_hash: bytes


class ProblemKind(StrEnum):
    CHANGED = "changed"
    DELETED = "deleted"
    INSERTED = "inserted"
    REORDERED = "reordered"
    TRUNCATED = "truncated"
    BAD_CHECKPOINT = "bad_checkpoint"


@dataclass(frozen=True, slots=True)
class Problem:
    """The first problem found: its kind, the first affected ``seq`` and an explanation."""

    kind: ProblemKind
    seq: int | None
    message: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of :func:`verify_log`.

    ``records_checked`` counts records that passed the sequence and chain checks;
    ``checkpoints_checked`` counts checkpoints whose root matched the replayed log.
    """

    ok: bool
    records_checked: int
    checkpoints_checked: int
    problem: Problem | None


def _span(first: int, last: int, one: str, many: str) -> str:
    return f"{one} {first}" if first == last else f"{many} {first}–{last}"


def _self_consistent(record: StoredRecord) -> bool:
    prev = record.prev_hash
    if len(prev) != HASH_SIZE:
        return False
    return bool(_sha256(CHAIN_DOMAIN + prev + record.encoding).digest() == record.record_hash)


def _diagnose(
    record: StoredRecord,
    expected: int,
    prev: bytes,
    history: Sequence[bytes],
    anchored: int,
    ahead: Sequence[StoredRecord],
) -> Problem:
    """Classify the first failing ``record`` (see the module docstring for the rules).

    ``history[-1]`` is ``prev`` (the hash of record ``expected - 1``), ``history[-2]``
    the one before, and so on; ``anchored`` is the size of the last matched checkpoint.
    """
    seq = record.seq
    e = expected
    if seq > e:
        if any(q.seq == e for q in ahead):
            return Problem(
                ProblemKind.REORDERED,
                e,
                f"record {e} appears after record {seq}: the log is out of order",
            )
        missing = _span(e, seq - 1, "record", "records")
        was = "was" if seq - 1 == e else "were"
        where = (
            f"the log starts at record {seq}"
            if e == 1
            else f"the log jumps from record {e - 1} to record {seq}"
        )
        return Problem(ProblemKind.DELETED, e, f"{missing} {was} deleted: {where}")
    if seq < e:
        if seq < 1:
            return Problem(
                ProblemKind.INSERTED,
                seq,
                f"a record with the invalid sequence number {seq} was inserted",
            )
        if seq == e - 1:
            return Problem(
                ProblemKind.INSERTED,
                seq,
                f"record {seq} appears twice: an extra record with the same number was inserted",
            )
        return Problem(
            ProblemKind.REORDERED,
            seq,
            f"record {seq} appears after record {e - 1}: the log is out of order",
        )

    self_ok = _self_consistent(record)
    if record.prev_hash == prev:
        if not self_ok and ahead and ahead[0].prev_hash == prev:
            return Problem(
                ProblemKind.INSERTED,
                e,
                f"record {e} was inserted: it is not part of the chain "
                f"(the next record links directly to record {e - 1})",
            )
        return Problem(ProblemKind.CHANGED, e, f"record {e} was changed: its hash does not match")

    # The link to the previous record is broken.
    for offset, later in enumerate(ahead):
        if later.record_hash == record.prev_hash:
            if offset == 0 and later.prev_hash == prev:
                message = f"records {e} and {e + 1} were swapped: the log is out of order"
            else:
                message = (
                    f"record {e} is out of order: it belongs after the record stored as {later.seq}"
                )
            return Problem(ProblemKind.REORDERED, e, message)
    for offset, later in enumerate(ahead):
        if later.prev_hash == prev:
            inserted = _span(e, e + offset, "record", "records")
            was, are = ("was", "it is") if offset == 0 else ("were", "they are")
            return Problem(
                ProblemKind.INSERTED,
                e,
                f"{inserted} {was} inserted: {are} not part of the chain "
                f"(record {later.seq} links directly to record {e - 1})",
            )
    older = list(history)[:-1]
    for back, earlier in enumerate(reversed(older), start=2):
        if earlier == record.prev_hash:
            first = e - back + 1
            inserted = _span(first, e - 1, "record", "records")
            was = "was" if first == e - 1 else "were"
            return Problem(
                ProblemKind.INSERTED,
                first,
                f"{inserted} {was} inserted: record {e} links directly to record {e - back}",
            )
    if not self_ok:
        return Problem(
            ProblemKind.CHANGED,
            e,
            f"record {e} was changed: neither its link to record {e - 1} nor its own hash matches",
        )
    if e == 1:
        return Problem(
            ProblemKind.DELETED,
            1,
            "record 1 does not start the chain: earlier records were deleted "
            "and the log renumbered (or record 1 was rewritten)",
        )
    if anchored == e - 1:
        return Problem(
            ProblemKind.DELETED,
            e,
            f"record {e} does not link to record {e - 1}, which matches a signed checkpoint: "
            f"records after {e - 1} were deleted and the log renumbered "
            f"(or record {e} was rewritten)",
        )
    message = (
        f"record {e - 1} was changed and its hashes recomputed: record {e} no longer links to it"
    )
    if anchored + 1 < e - 1:
        message += (
            f"; if the chain was recomputed over several records, the change can be anywhere "
            f"in records {anchored + 1}–{e - 1}"
        )
    message += f" (or records after {e - 1} were deleted and the log renumbered)"
    return Problem(ProblemKind.CHANGED, e - 1, message)


def _scan_ahead(
    ahead: Sequence[StoredRecord],
    expected: int,
    prev: bytes,
    history: deque[bytes],
    anchored: int,
) -> Problem | None:
    """Chain-check ``ahead`` (no Merkle); diagnose the first failure, if any."""
    history = deque(history, maxlen=history.maxlen)
    for index, record in enumerate(ahead):
        if record.seq != expected or record.prev_hash != prev or not _self_consistent(record):
            return _diagnose(record, expected, prev, history, anchored, ahead[index + 1 :])
        prev = record.record_hash
        history.append(prev)
        expected += 1
    return None


def _open_checkpoints(
    checkpoints: Iterable[str | bytes],
    keys: Sequence[tuple[str, Ed25519PublicKey]],
    origin: str | None,
) -> tuple[dict[int, tuple[bytes, list[int]]], Problem | None]:
    """Verify every checkpoint; map size -> (root, [checkpoint numbers])."""
    by_size: dict[int, tuple[bytes, list[int]]] = {}
    first: Checkpoint | None = None
    for number, note in enumerate(checkpoints, start=1):
        try:
            checkpoint = open_checkpoint_any(note, keys, origin=origin)
        except CheckpointError as exc:
            return by_size, Problem(
                ProblemKind.BAD_CHECKPOINT,
                None,
                f"checkpoint #{number} is changed or forged: {exc}",
            )
        if first is None:
            first = checkpoint
        elif checkpoint.origin != first.origin:
            return by_size, Problem(
                ProblemKind.BAD_CHECKPOINT,
                None,
                f"checkpoint #{number} is for log {checkpoint.origin!r}, "
                f"checkpoint #1 for {first.origin!r}",
            )
        seen = by_size.get(checkpoint.size)
        if seen is None:
            by_size[checkpoint.size] = (checkpoint.root, [number])
        elif seen[0] == checkpoint.root:
            seen[1].append(number)
        else:
            return by_size, Problem(
                ProblemKind.BAD_CHECKPOINT,
                checkpoint.size,
                f"checkpoints #{seen[1][0]} and #{number} are both validly signed for "
                f"{checkpoint.size} records but with different roots: "
                "the log key signed two different histories",
            )
    empty = by_size.get(0)
    if empty is not None and empty[0] != EMPTY_ROOT:
        return by_size, Problem(
            ProblemKind.BAD_CHECKPOINT,
            0,
            f"checkpoint #{empty[1][0]} is signed for 0 records but not with the empty root",
        )
    return by_size, None


def verify_log(
    records: Iterable[StoredRecord],
    checkpoints: Iterable[str | bytes],
    keys: Iterable[tuple[str, Ed25519PublicKey]],
    *,
    origin: str | None = None,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 10_000,
) -> VerifyResult:
    """Verify stored access records (in ``seq`` order) against signed checkpoints.

    ``keys`` are the trusted ``(key name, Ed25519 public key)`` pairs of the log
    (several during a key rotation; see :func:`portal.audit.checkpoint.parse_verifier_key`).
    If ``origin`` is given every checkpoint must be for that log.
    ``progress(n)`` is called after every ``progress_every`` verified records, and
    once at the end with the final count if that was not a multiple.
    """
    if progress_every < 1:
        raise ValueError("progress_every must be at least 1")
    trusted = list(keys)
    by_size, problem = _open_checkpoints(checkpoints, trusted, origin)
    if problem is not None:
        return VerifyResult(False, 0, 0, problem)

    checkpoints_checked = len(by_size.get(0, (b"", []))[1])
    sizes = sorted(size for size in by_size if size > 0)
    never = -1
    cp_index = 0
    next_cp = sizes[0] if sizes else never
    next_progress = progress_every if progress is not None else never
    next_stop = _next_stop(next_cp, next_progress)

    sha256 = _sha256
    domain = CHAIN_DOMAIN
    leaf_prefix = _LEAF_PREFIX
    accumulator = MerkleAccumulator()
    append_leaf = accumulator.append
    history: deque[bytes] = deque([GENESIS], maxlen=HISTORY)
    remember = history.append
    prev = GENESIS
    expected = 1
    anchored = 0  # size of the last checkpoint whose root matched

    it: Iterator[StoredRecord] = iter(records)
    for record in it:
        record_hash = record.record_hash
        encoding = record.encoding
        if (
            record.seq != expected
            or record.prev_hash != prev
            or sha256(domain + prev + encoding).digest() != record_hash
        ):
            ahead = list(islice(it, LOOKAHEAD))
            problem = _diagnose(record, expected, prev, history, anchored, ahead)
            return VerifyResult(False, expected - 1, checkpoints_checked, problem)
        append_leaf(sha256(leaf_prefix + encoding).digest())
        prev = record_hash
        remember(prev)
        if expected == next_stop:
            if expected == next_cp:
                root, numbers = by_size[expected]
                if accumulator.root() != root:
                    problem = _checkpoint_mismatch(
                        it, expected, prev, history, anchored, numbers[0]
                    )
                    return VerifyResult(False, expected, checkpoints_checked, problem)
                checkpoints_checked += len(numbers)
                anchored = expected
                cp_index += 1
                next_cp = sizes[cp_index] if cp_index < len(sizes) else never
            if expected == next_progress and progress is not None:
                progress(expected)
                next_progress += progress_every
            next_stop = _next_stop(next_cp, next_progress)
        expected += 1

    count = expected - 1
    if progress is not None and count % progress_every != 0:
        progress(count)
    if next_cp != never:
        largest = sizes[-1]
        numbers = by_size[largest][1]
        missing = _span(count + 1, largest, "record", "records")
        return VerifyResult(
            False,
            count,
            checkpoints_checked,
            Problem(
                ProblemKind.TRUNCATED,
                count + 1,
                f"the log ends at record {count}, but signed checkpoint #{numbers[0]} covers "
                f"{largest} records: {missing} {'is' if count + 1 == largest else 'are'} "
                "missing (the log was truncated)",
            ),
        )
    return VerifyResult(True, count, checkpoints_checked, None)


def _next_stop(next_cp: int, next_progress: int) -> int:
    candidates = [s for s in (next_cp, next_progress) if s > 0]
    return min(candidates) if candidates else -1


def _checkpoint_mismatch(
    it: Iterator[StoredRecord],
    size: int,
    prev: bytes,
    history: deque[bytes],
    anchored: int,
    number: int,
) -> Problem:
    # A broken link right after the checkpoint may pin the problem to one record.
    ahead = list(islice(it, LOOKAHEAD))
    precise = _scan_ahead(ahead, size + 1, prev, history, anchored)
    if precise is not None and precise.seq is not None and precise.seq <= size:
        return precise
    first = anchored + 1
    if first == size:
        message = (
            f"record {size} does not match signed checkpoint #{number} (for {size} records): "
            "it was changed and its hashes recomputed"
        )
    else:
        message = (
            f"records {first}–{size} do not match signed checkpoint #{number} "
            f"(for {size} records): at least one of them was changed, inserted, deleted or "
            "reordered, and the hash chain was recomputed to hide it"
        )
    return Problem(ProblemKind.CHANGED, first, message)
