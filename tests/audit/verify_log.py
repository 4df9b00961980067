"""Shared by the verifier tests: a signed 200-record log and ways to forge into it."""


from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.audit.chain import GENESIS, canonical_encoding, chain_hash, leaf_hash
from portal.audit.checkpoint import sign_checkpoint
from portal.audit.merkle import MerkleAccumulator
from portal.audit.verify import (
    Problem,
    StoredRecord,
    VerifyResult,
    verify_log,
)

ORIGIN = "mdo.example/audit"
KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"mdo audit test log key").digest())
KEYS = [(ORIGIN, KEY.public_key())]
START = datetime(2026, 3, 2, 8, 0, 0, tzinfo=UTC)


def fields(seq: int, **changes: object) -> dict[str, object]:
    record: dict[str, object] = {
        "seq": seq,
        "occurred_at": START + timedelta(seconds=7 * seq, milliseconds=seq % 1000),
        "action_code": "R",
        "event_type": "case.view",
        "outcome": "allowed",
        "reason": None,
        "basis": "wjz-7a",
        "user_id": f"user-{seq % 17}",
        "user_name": "J. de Vries",
        "user_role": "intern begeleider",
        "case_id": f"case-{seq % 5}",
        "child_id": f"child-{seq % 5}",
        "object_type": "report",
        "object_id": f"rep-{seq}",
        "source": "mdo-portal",
    }
    record.update(changes)
    return record


def rechain(records: list[StoredRecord], start: int = 0) -> list[StoredRecord]:
    """Renumber from 1 and recompute all hashes from index ``start`` on, as an attacker can."""
    out = list(records[:start])
    prev = out[-1].record_hash if out else GENESIS
    for index in range(start, len(records)):
        encoding = records[index].encoding
        record_hash = chain_hash(prev, encoding)
        out.append(StoredRecord(index + 1, encoding, prev, record_hash))
        prev = record_hash
    return out


def renumber(records: list[StoredRecord]) -> list[StoredRecord]:
    return [r._replace(seq=i) for i, r in enumerate(records, start=1)]


def checkpoints_for(records: list[StoredRecord], every: int) -> list[str]:
    notes = []
    acc = MerkleAccumulator()
    for record in records:
        acc.append(leaf_hash(record.encoding))
        if acc.size % every == 0:
            notes.append(sign_checkpoint(ORIGIN, acc.size, acc.root(), KEY, ORIGIN))
    return notes


def build(n: int = 200, every: int = 50) -> tuple[list[StoredRecord], list[str]]:
    records = [StoredRecord(i, canonical_encoding(fields(i)), b"", b"") for i in range(1, n + 1)]
    records = rechain(records)
    return records, checkpoints_for(records, every)


RECORDS, CHECKPOINTS = build()


def verify(records: list[StoredRecord], checkpoints: list[str] = CHECKPOINTS) -> VerifyResult:
    return verify_log(records, checkpoints, KEYS, origin=ORIGIN)


def problem_of(result: VerifyResult) -> Problem:
    assert not result.ok
    assert result.problem is not None
    return result.problem


def forged(seq: int, prev: bytes, **changes: object) -> StoredRecord:
    encoding = canonical_encoding(fields(seq, **changes))
    return StoredRecord(seq, encoding, prev, chain_hash(prev, encoding))
