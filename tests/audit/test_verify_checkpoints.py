"""Replay verification: forged or changed checkpoints, and randomised tampering."""


from __future__ import annotations

import hashlib
import random

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.audit.chain import GENESIS, leaf_hash
from portal.audit.checkpoint import sign_checkpoint
from portal.audit.merkle import MerkleAccumulator
from portal.audit.verify import (
    ProblemKind,
    StoredRecord,
    verify_log,
)
from tests.audit.verify_log import (
    CHECKPOINTS,
    KEY,
    KEYS,
    ORIGIN,
    RECORDS,
    build,
    forged,
    problem_of,
    rechain,
    renumber,
    verify,
)

# --- checkpoints ------------------------------------------------------------------------------


def _edit_body(note: str, line: int, value: str) -> str:
    text, sigs = note.split("\n\n")
    lines = text.split("\n")
    lines[line] = value
    return "\n".join(lines) + "\n\n" + sigs


def test_changed_checkpoint_is_detected() -> None:
    for line, value in ((1, "101"), (2, CHECKPOINTS[0].split("\n")[2])):
        notes = list(CHECKPOINTS)
        notes[1] = _edit_body(notes[1], line, value)
        result = verify(RECORDS, notes)
        problem = problem_of(result)
        assert problem.kind is ProblemKind.BAD_CHECKPOINT
        assert problem.seq is None
        assert "checkpoint #2" in problem.message
        assert result.records_checked == 0


def test_forged_checkpoint_is_detected() -> None:
    attacker = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"attacker").digest())
    acc = MerkleAccumulator()
    for record in RECORDS[:180]:
        acc.append(leaf_hash(record.encoding))
    fake = sign_checkpoint(ORIGIN, 180, acc.root(), attacker, ORIGIN)
    problem = problem_of(verify(RECORDS[:180], [*CHECKPOINTS[:3], fake]))
    assert problem.kind is ProblemKind.BAD_CHECKPOINT
    assert "checkpoint #4" in problem.message


def test_checkpoint_for_another_log_is_rejected() -> None:
    acc = MerkleAccumulator()
    for record in RECORDS[:50]:
        acc.append(leaf_hash(record.encoding))
    other = sign_checkpoint("other.example/log", 50, acc.root(), KEY, ORIGIN)
    problem = problem_of(verify(RECORDS, [*CHECKPOINTS, other]))
    assert problem.kind is ProblemKind.BAD_CHECKPOINT


def test_two_signed_histories_for_one_size_are_rejected() -> None:
    fork = sign_checkpoint(ORIGIN, 100, hashlib.sha256(b"fork").digest(), KEY, ORIGIN)
    problem = problem_of(verify(RECORDS, [*CHECKPOINTS, fork]))
    assert (problem.kind, problem.seq) == (ProblemKind.BAD_CHECKPOINT, 100)
    assert "two different histories" in problem.message


def test_signed_checkpoint_with_wrong_root_is_a_mismatch() -> None:
    wrong = sign_checkpoint(ORIGIN, 75, hashlib.sha256(b"wrong").digest(), KEY, ORIGIN)
    result = verify(RECORDS, [*CHECKPOINTS, wrong])
    problem = problem_of(result)
    assert (problem.kind, problem.seq) == (ProblemKind.CHANGED, 51)
    assert "records 51–75 do not match signed checkpoint #5" in problem.message
    assert result.checkpoints_checked == 1


# --- randomised: every single tampering inside the checkpointed range is detected -------------


def _tamper(records: list[StoredRecord], rng: random.Random) -> list[StoredRecord]:
    n = len(records)
    i = rng.randrange(n)
    out = list(records)
    action = rng.choice(
        [
            "edit",
            "edit+rehash",
            "edit+rechain",
            "delete",
            "delete+renumber",
            "delete+rechain",
            "insert",
            "insert+rechain",
            "swap",
            "swap+rechain",
            "truncate",
            "hash",
        ]
    )
    if action.startswith("edit"):
        out[i] = forged(i + 1, out[i].prev_hash, outcome=f"x{rng.random()}")
        if action == "edit":
            out[i] = out[i]._replace(record_hash=records[i].record_hash)
        elif action == "edit+rechain":
            out = rechain(out, i)
    elif action.startswith("delete"):
        del out[i]
        if action == "delete+renumber":
            out = renumber(out)
        elif action == "delete+rechain":
            out = rechain(out, i)
    elif action.startswith("insert"):
        prev = out[i - 1].record_hash if i else GENESIS
        out.insert(i, forged(i + 1, prev, object_id="ins"))
        out = renumber(out) if action == "insert" else rechain(out, i)
    elif action.startswith("swap"):
        j = rng.randrange(n)
        while j == i:
            j = rng.randrange(n)
        out[i], out[j] = out[j], out[i]
        out = renumber(out) if action == "swap" else rechain(out, min(i, j))
    elif action == "truncate":
        out = out[:i]
    else:
        out[i] = out[i]._replace(prev_hash=bytes([1]) * 32)
    return out


@pytest.mark.parametrize("seed", range(300))
def test_random_tampering_is_always_detected(seed: int) -> None:
    rng = random.Random(seed)
    records, notes = build(40, 10)
    result = verify_log(_tamper(records, rng), notes, KEYS)
    assert not result.ok
    assert result.problem is not None
    assert result.problem.seq is None or 1 <= result.problem.seq <= 41
