"""RFC 6962 consistency proofs: every (m, n) up to 40 leaves builds and verifies, and
every tampered proof, root or size is refused."""

from __future__ import annotations

import hashlib

import pytest

from portal.audit.merkle import tree_head
from portal.audit.proof import compact_ranges, consistency_ranges, verify_consistency

LEAVES = [hashlib.sha256(b"\x00" + str(i).encode()).digest() for i in range(40)]


def proof(m: int, n: int) -> list[bytes]:
    return [tree_head(LEAVES[lo:hi]) for lo, hi in consistency_ranges(m, n)]


def root(n: int) -> bytes:
    return tree_head(LEAVES[:n])


@pytest.mark.parametrize("n", range(1, 41))
def test_every_older_tree_is_proven_a_prefix(n: int) -> None:
    for m in range(n + 1):
        assert verify_consistency(m, n, root(m), root(n), proof(m, n)), (m, n)


def test_the_old_side_of_a_proof_is_the_compact_range_of_the_old_size() -> None:
    for n in range(1, 41):
        for m in range(1, n):
            old_side = [r for r in consistency_ranges(m, n) if r[1] <= m]
            assert set(old_side) <= set(compact_ranges(m)), (m, n)
            assert all(lo >= m for lo, _ in set(consistency_ranges(m, n)) - set(old_side))


def test_rfc6962_example_sizes() -> None:
    # RFC 6962 2.1.3: the proof between the 3- and 7-leaf trees is [c, d, g, l].
    assert consistency_ranges(3, 7) == [(2, 3), (3, 4), (0, 2), (4, 7)]
    assert consistency_ranges(4, 7) == [(4, 7)]
    assert consistency_ranges(6, 7) == [(4, 6), (6, 7), (0, 4)]


def test_a_changed_leaf_breaks_every_proof_that_covers_it() -> None:
    forged = list(LEAVES)
    forged[4] = hashlib.sha256(b"\x00forged").digest()
    for m in range(5, 20):
        for n in range(m + 1, 21):
            honest_old = root(m)
            new = tree_head(forged[:n])
            fake = [tree_head(forged[lo:hi]) for lo, hi in consistency_ranges(m, n)]
            assert not verify_consistency(m, n, honest_old, new, fake), (m, n)


def test_tampered_proofs_roots_and_sizes_are_refused() -> None:
    m, n = 11, 29
    good = proof(m, n)
    assert verify_consistency(m, n, root(m), root(n), good)
    for i in range(len(good)):
        bad = list(good)
        bad[i] = bytes(32)
        assert not verify_consistency(m, n, root(m), root(n), bad)
    assert not verify_consistency(m, n, root(m), root(n), good[:-1])
    assert not verify_consistency(m, n, root(m), root(n), [*good, bytes(32)])
    assert not verify_consistency(m, n + 1, root(m), root(n + 1), good)
    assert not verify_consistency(m, n, root(m + 1), root(n), good)
    assert not verify_consistency(n, m, root(n), root(m), good)
    assert not verify_consistency(m, m, root(m), root(m + 1), [])
    assert not verify_consistency(0, n, root(0), root(n), good)
    assert not verify_consistency(m, n, root(m), root(n), [b"short", *good[1:]])
