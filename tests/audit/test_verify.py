"""Replay verification of the access log: what each kind of record tampering looks like."""


from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.audit.chain import GENESIS, canonical_encoding, leaf_hash
from portal.audit.checkpoint import sign_checkpoint
from portal.audit.merkle import MerkleAccumulator
from portal.audit.verify import (
    ProblemKind,
    StoredRecord,
    VerifyResult,
    verify_log,
)
from tests.audit.verify_log import (
    CHECKPOINTS,
    KEY,
    KEYS,
    ORIGIN,
    RECORDS,
    fields,
    forged,
    problem_of,
    rechain,
    renumber,
    verify,
)

# --- the untampered log -----------------------------------------------------------------------


def test_untampered_log_verifies() -> None:
    assert verify(RECORDS) == VerifyResult(True, 200, 4, None)


def test_records_may_be_a_stream() -> None:
    def stream() -> Iterator[StoredRecord]:
        yield from RECORDS

    assert verify_log(stream(), iter(CHECKPOINTS), KEYS).ok


def test_records_after_the_last_checkpoint_are_fine() -> None:
    assert verify(RECORDS, CHECKPOINTS[:2]) == VerifyResult(True, 200, 2, None)


def test_empty_log() -> None:
    assert verify_log([], [], KEYS) == VerifyResult(True, 0, 0, None)
    empty = sign_checkpoint(ORIGIN, 0, hashlib.sha256(b"").digest(), KEY, ORIGIN)
    assert verify_log([], [empty], KEYS) == VerifyResult(True, 0, 1, None)


def test_progress_callback() -> None:
    calls: list[int] = []
    verify_log(RECORDS, CHECKPOINTS, KEYS, progress=calls.append, progress_every=50)
    assert calls == [50, 100, 150, 200]
    calls.clear()
    verify_log(RECORDS, CHECKPOINTS, KEYS, progress=calls.append, progress_every=64)
    assert calls == [64, 128, 192, 200]
    with pytest.raises(ValueError, match="progress_every"):
        verify_log(RECORDS, CHECKPOINTS, KEYS, progress=calls.append, progress_every=0)


def test_key_rotation_accepts_either_trusted_key() -> None:
    new_key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"rotated").digest())
    acc = MerkleAccumulator()
    for record in RECORDS[:100]:
        acc.append(leaf_hash(record.encoding))
    newer = sign_checkpoint(ORIGIN, 100, acc.root(), new_key, ORIGIN)
    keys = [*KEYS, (ORIGIN, new_key.public_key())]
    assert verify_log(RECORDS, [*CHECKPOINTS, newer], keys) == VerifyResult(True, 200, 5, None)


# --- changed ----------------------------------------------------------------------------------


def test_changed_field_is_detected() -> None:
    records = list(RECORDS)
    encoding = canonical_encoding(fields(120, outcome="denied"))
    records[119] = records[119]._replace(encoding=encoding)
    problem = problem_of(verify(records))
    assert problem.kind is ProblemKind.CHANGED
    assert problem.seq == 120
    assert "record 120 was changed: its hash does not match" in problem.message


def test_changed_record_hash_column_is_detected() -> None:
    records = list(RECORDS)
    records[0] = records[0]._replace(record_hash=bytes(32))
    problem = problem_of(verify(records))
    assert (problem.kind, problem.seq) == (ProblemKind.CHANGED, 1)


def test_changed_field_with_recomputed_hashes_is_caught_by_the_next_record() -> None:
    records = list(RECORDS)
    records[119] = forged(120, records[119].prev_hash, user_name="Someone Else")
    result = verify(records)
    problem = problem_of(result)
    assert problem.kind is ProblemKind.CHANGED
    assert problem.seq == 120
    assert "record 120 was changed" in problem.message
    assert result.records_checked == 120


def test_changed_last_record_with_recomputed_hashes_is_caught_by_the_checkpoint() -> None:
    records = list(RECORDS)
    records[199] = forged(200, records[199].prev_hash, outcome="denied")
    problem = problem_of(verify(records))
    assert problem.kind is ProblemKind.CHANGED
    assert problem.seq == 151
    assert "records 151–200 do not match signed checkpoint #4" in problem.message


def test_changed_record_at_a_checkpoint_boundary_is_pinned_by_the_next_record() -> None:
    records = list(RECORDS)
    records[149] = forged(150, records[149].prev_hash, outcome="denied")
    problem = problem_of(verify(records))
    assert (problem.kind, problem.seq) == (ProblemKind.CHANGED, 150)
    assert "record 150 was changed" in problem.message


def test_changed_record_with_part_of_the_chain_recomputed_names_the_suspect_range() -> None:
    # Record 120 edited and records 120..149 rehashed: record 150 still points to the
    # original 149. The chain can only say "149, or anything back to the last checkpoint".
    records = list(RECORDS)
    records[119] = forged(120, records[119].prev_hash, outcome="denied")
    records = rechain(records[:149], 119) + records[149:]
    problem = problem_of(verify(records))
    assert (problem.kind, problem.seq) == (ProblemKind.CHANGED, 149)
    assert "anywhere in records 101–149" in problem.message


def test_changed_record_with_whole_chain_recomputed_is_caught_by_the_checkpoint() -> None:
    records = list(RECORDS)
    records[119] = forged(120, records[119].prev_hash, outcome="denied")
    records = rechain(records, 119)
    result = verify(records)
    problem = problem_of(result)
    assert problem.kind is ProblemKind.CHANGED
    assert problem.seq == 101
    assert "records 101–150" in problem.message
    assert result.checkpoints_checked == 2
    assert result.records_checked == 150


# --- deleted ----------------------------------------------------------------------------------


def test_deleted_record_is_detected() -> None:
    records = RECORDS[:119] + RECORDS[120:]
    problem = problem_of(verify(records))
    assert problem.kind is ProblemKind.DELETED
    assert problem.seq == 120
    assert "record 120 was deleted" in problem.message


def test_deleted_range_and_first_record() -> None:
    problem = problem_of(verify(RECORDS[:119] + RECORDS[122:]))
    assert (problem.kind, problem.seq) == (ProblemKind.DELETED, 120)
    assert "records 120–122 were deleted" in problem.message
    problem = problem_of(verify(RECORDS[1:]))
    assert (problem.kind, problem.seq) == (ProblemKind.DELETED, 1)
    assert "record 1 was deleted" in problem.message


def test_deleted_record_at_checkpoint_boundary() -> None:
    problem = problem_of(verify(RECORDS[:49] + RECORDS[50:]))
    assert (problem.kind, problem.seq) == (ProblemKind.DELETED, 50)


def test_deleted_and_renumbered_right_after_a_checkpoint() -> None:
    problem = problem_of(verify(renumber(RECORDS[:100] + RECORDS[101:])))
    assert (problem.kind, problem.seq) == (ProblemKind.DELETED, 101)


def test_deleted_head_and_renumbered() -> None:
    problem = problem_of(verify(renumber(RECORDS[3:])))
    assert (problem.kind, problem.seq) == (ProblemKind.DELETED, 1)


def test_deleted_and_renumbered_mid_range_is_detected_but_ambiguous() -> None:
    # Documented limit: without a checkpoint on record 119 this looks exactly like
    # "record 119 was changed and its hashes recomputed"; both are named.
    problem = problem_of(verify(renumber(RECORDS[:119] + RECORDS[120:])))
    assert (problem.kind, problem.seq) == (ProblemKind.CHANGED, 119)
    assert "deleted" in problem.message


def test_deleted_with_whole_chain_recomputed_is_caught_by_the_checkpoint() -> None:
    problem = problem_of(verify(rechain(RECORDS[:119] + RECORDS[120:], 119)))
    assert (problem.kind, problem.seq) == (ProblemKind.CHANGED, 101)


# --- inserted ---------------------------------------------------------------------------------


def test_inserted_record_is_detected() -> None:
    extra = forged(101, RECORDS[99].record_hash, user_name="Ghost", object_id="rep-x")
    records = [*RECORDS[:100], extra, *renumber_from(RECORDS[100:], 102)]
    problem = problem_of(verify(records))
    assert problem.kind is ProblemKind.INSERTED
    assert problem.seq == 101
    assert "record 101 was inserted" in problem.message


def renumber_from(records: list[StoredRecord], first: int) -> list[StoredRecord]:
    return [r._replace(seq=i) for i, r in enumerate(records, start=first)]


def test_two_inserted_records() -> None:
    x = forged(121, RECORDS[119].record_hash, object_id="x")
    y = forged(122, x.record_hash, object_id="y")
    records = [*RECORDS[:120], x, y, *renumber_from(RECORDS[120:], 123)]
    problem = problem_of(verify(records))
    assert (problem.kind, problem.seq) == (ProblemKind.INSERTED, 121)
    assert "records 121–122 were inserted" in problem.message


def test_inserted_record_with_garbage_hashes() -> None:
    extra = StoredRecord(101, b'{"fake":true}', bytes(32), bytes(32))
    records = [*RECORDS[:100], extra, *renumber_from(RECORDS[100:], 102)]
    problem = problem_of(verify(records))
    assert (problem.kind, problem.seq) == (ProblemKind.INSERTED, 101)


def test_inserted_record_with_good_link_but_bad_hash() -> None:
    extra = StoredRecord(101, b'{"fake":true}', RECORDS[99].record_hash, bytes(32))
    records = [*RECORDS[:100], extra, *renumber_from(RECORDS[100:], 102)]
    problem = problem_of(verify(records))
    assert (problem.kind, problem.seq) == (ProblemKind.INSERTED, 101)


def test_inserted_duplicate_sequence_number() -> None:
    extra = forged(101, RECORDS[100].record_hash, object_id="dup")
    records = [*RECORDS[:101], extra, *RECORDS[101:]]
    problem = problem_of(verify(records))
    assert (problem.kind, problem.seq) == (ProblemKind.INSERTED, 101)
    assert "appears twice" in problem.message


def test_inserted_record_at_a_checkpoint_boundary() -> None:
    extra = forged(50, RECORDS[48].record_hash, object_id="x")
    records = [*RECORDS[:49], extra, *renumber_from(RECORDS[49:], 51)]
    problem = problem_of(verify(records))
    assert (problem.kind, problem.seq) == (ProblemKind.INSERTED, 50)


# --- reordered --------------------------------------------------------------------------------


def test_swapped_records_are_detected() -> None:
    records = list(RECORDS)
    records[119], records[120] = records[120], records[119]
    records = renumber(records)  # the rows keep their place in seq order
    problem = problem_of(verify(records))
    assert problem.kind is ProblemKind.REORDERED
    assert problem.seq == 120
    assert "records 120 and 121 were swapped" in problem.message


def test_swapped_non_adjacent_records() -> None:
    records = list(RECORDS)
    records[119], records[124] = records[124], records[119]
    problem = problem_of(verify(renumber(records)))
    assert (problem.kind, problem.seq) == (ProblemKind.REORDERED, 120)


def test_rows_out_of_sequence_order() -> None:
    records = list(RECORDS)
    records[119], records[120] = records[120], records[119]  # seq 121 before seq 120
    problem = problem_of(verify(records))
    assert (problem.kind, problem.seq) == (ProblemKind.REORDERED, 120)
    records = list(RECORDS)
    moved = records.pop(10)  # seq 11 moved after seq 30
    records.insert(30, moved)
    problem = problem_of(verify(records))
    assert (problem.kind, problem.seq) == (ProblemKind.REORDERED, 11)


def test_swap_with_recomputed_chain_is_caught_by_the_checkpoint() -> None:
    records = list(RECORDS)
    records[119], records[120] = records[120], records[119]
    problem = problem_of(verify(rechain(records, 119)))
    assert (problem.kind, problem.seq) == (ProblemKind.CHANGED, 101)


# --- truncated --------------------------------------------------------------------------------


def test_truncated_tail_is_detected() -> None:
    result = verify(RECORDS[:180])
    problem = problem_of(result)
    assert problem.kind is ProblemKind.TRUNCATED
    assert problem.seq == 181
    assert "records 181–200 are missing" in problem.message
    assert result.records_checked == 180
    assert result.checkpoints_checked == 3


def test_truncated_to_nothing() -> None:
    problem = problem_of(verify([]))
    assert (problem.kind, problem.seq) == (ProblemKind.TRUNCATED, 1)


def test_truncated_then_regrown_is_caught_by_the_checkpoint() -> None:
    regrown = RECORDS[:180] + [forged(181 + i, GENESIS, object_id=f"new-{i}") for i in range(30)]
    problem = problem_of(verify(rechain(regrown, 180)))
    assert (problem.kind, problem.seq) == (ProblemKind.CHANGED, 151)
