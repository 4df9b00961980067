"""Checkpoints known outside the database, and proving the database still extends them.

A database owner can rewrite records and recompute the chain head without the
signing key; what they cannot rewrite is a checkpoint that already left the
database: a file in ``PORTAL_AUDIT_CHECKPOINT_DIR`` or the witness's cosigned
checkpoint. Before a new checkpoint is signed (``ledger._seal``) the records
in the database must give an RFC 6962 consistency proof from each such anchor
to the tree about to be signed; otherwise the portal refuses to sign.

The proof is built from the records themselves: the ranges inside the old tree
come from the compact range stored with the old checkpoint (untrusted: a
changed value makes the proof fail), the ranges after it from the records
added since, so sealing reads only those.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.chain import HASH_SIZE, leaf_hash
from portal.audit.checkpoint import Checkpoint, CheckpointError, open_checkpoint_any
from portal.audit.cosignature import open_cosignature
from portal.audit.merkle import MerkleAccumulator
from portal.audit.models import AccessRecord, AuditCheckpoint, WitnessCosignature
from portal.audit.proof import compact_ranges, consistency_ranges, verify_consistency

_FILE_RE = re.compile(r"checkpoint-([0-9]{20})\.txt")


class NotExtended(Exception):
    """The database does not extend a checkpoint known outside it; ``seq`` is the first
    record that is missing or no longer what was signed (None when unknown)."""

    def __init__(self, message: str, seq: int | None) -> None:
        super().__init__(message)
        self.seq = seq


@dataclass(frozen=True)
class Anchor:
    """A checkpoint from outside the database, with where it came from."""

    checkpoint: Checkpoint
    label: str


def checkpoint_files(directory: Path) -> list[tuple[int, Path]]:
    """The checkpoint files in ``directory`` by size (names as ``checkpoint_file_name`` makes)."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _FILE_RE.fullmatch(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def newest_file(directory: Path | None, keys: Sequence[tuple[str, Ed25519PublicKey]],
                origin: str) -> Anchor | None:
    """The newest checkpoint file; raises NotExtended when it is forged or misnamed."""
    files = checkpoint_files(directory) if directory is not None else []
    if not files:
        return None
    size, path = files[-1]
    try:
        checkpoint = open_checkpoint_any(path.read_text(encoding="utf-8"), keys, origin=origin)
    except (OSError, UnicodeDecodeError, CheckpointError) as exc:
        raise NotExtended(f"the checkpoint file {path.name} does not verify: {exc}",
                          None) from None
    if checkpoint.size != size:
        raise NotExtended(f"the checkpoint file {path.name} holds a checkpoint for "
                          f"{checkpoint.size} records", None)
    return Anchor(checkpoint, f"the checkpoint file {path.name}")


def newest_cosigned(db: Session, keys: Sequence[tuple[str, Ed25519PublicKey]], origin: str,
                    witness: tuple[str, Ed25519PublicKey] | None) -> Anchor | None:
    """The newest checkpoint in the database that carries a verifying witness cosignature.

    Rows without a verifying cosignature are skipped: only the witness's key makes one.
    """
    if witness is None:
        return None
    rows = db.execute(select(WitnessCosignature.size, WitnessCosignature.line,
                             AuditCheckpoint.note)
                      .join(AuditCheckpoint, AuditCheckpoint.size == WitnessCosignature.size)
                      .order_by(WitnessCosignature.size.desc()).limit(20)).all()
    for size, line, note in rows:
        try:
            checkpoint = open_checkpoint_any(note, keys, origin=origin)
            open_cosignature(note.partition("\n\n")[0] + "\n", line, *witness)
        except CheckpointError:
            continue
        return Anchor(checkpoint, f"the witness's cosigned checkpoint for {size} records")
    return None


@dataclass
class Memory:
    """What one portal (one configured session factory) remembers between transactions:
    the newest checkpoint the witness cosigned (an anchor that deleting rows cannot take
    away) and when sealing was last refused (so appends do not retry on every record)."""

    witnessed: Checkpoint | None = None
    refused_at: datetime | None = None

    def remember_witnessed(self, checkpoint: Checkpoint) -> None:
        if self.witnessed is None or checkpoint.size >= self.witnessed.size:
            self.witnessed = checkpoint

    def witnessed_anchor(self) -> Anchor | None:
        if self.witnessed is None:
            return None
        return Anchor(self.witnessed,
                      f"the witness's cosigned checkpoint for {self.witnessed.size} records")


def _leaf_hashes(db: Session, first: int, last: int) -> list[bytes]:
    """Leaf hashes of records ``first..last`` (seq, 1-based); raises on a missing record."""
    rows = db.connection().execute(
        select(AccessRecord.seq, AccessRecord.encoding)
        .where(AccessRecord.seq >= first, AccessRecord.seq <= last).order_by(AccessRecord.seq))
    hashes = []
    expected = first
    for seq, encoding in rows:
        if seq != expected:
            raise NotExtended(f"record {expected} is missing", expected)
        hashes.append(leaf_hash(bytes(encoding)))
        expected += 1
    if expected != last + 1:
        raise NotExtended(f"record {expected} is missing", expected)
    return hashes


def _range_root(hashes: Sequence[bytes]) -> bytes:
    accumulator = MerkleAccumulator()
    for h in hashes:
        accumulator.append(h)
    return accumulator.root()


def consistency_proof(db: Session, old: int, new: int) -> list[bytes]:
    """PROOF(old, D[new]) from the records in the database (see the module docstring)."""
    ranges = consistency_ranges(old, new)
    if not ranges:
        return []
    known: dict[tuple[int, int], bytes] = {}
    stored = db.connection().execute(select(AuditCheckpoint.merkle_nodes)
                                     .where(AuditCheckpoint.size == old)).scalar()
    if stored:
        nodes = [bytes(stored[i:i + HASH_SIZE]) for i in range(0, len(stored), HASH_SIZE)]
        if len(nodes) == old.bit_count():
            known = dict(zip(compact_ranges(old), nodes, strict=True))
    needed = [r for r in ranges if r not in known]
    if needed:
        low = min(lo for lo, _ in needed)
        high = max(hi for _, hi in needed)
        hashes = _leaf_hashes(db, low + 1, high)
        for lo, hi in needed:
            known[(lo, hi)] = _range_root(hashes[lo - low:hi - low])
    return [known[r] for r in ranges]


def require_extension(db: Session, anchor: Anchor, size: int, root: bytes) -> None:
    """Raise NotExtended unless the tree of ``size`` records with ``root`` extends ``anchor``."""
    old = anchor.checkpoint
    if old.size > size:
        raise NotExtended(
            f"{anchor.label} covers {old.size} records but the database holds {size}: "
            f"records {size + 1}–{old.size} were deleted", size + 1)
    try:
        proof = consistency_proof(db, old.size, size)
    except NotExtended as exc:
        raise NotExtended(f"{exc} (covered by {anchor.label})", exc.seq) from None
    if not verify_consistency(old.size, size, old.root, root, proof):
        raise NotExtended(
            f"the records in the database do not extend {anchor.label}: a record among "
            f"1–{old.size} was changed, deleted or inserted", None)
