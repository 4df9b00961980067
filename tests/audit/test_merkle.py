"""RFC 6962 Merkle Tree Hash: published vectors, and the accumulator against tree_head."""

from __future__ import annotations

import hashlib
import random

import pytest

from portal.audit.chain import leaf_hash
from portal.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MerkleAccumulator,
    node_hash,
    tree_head,
)

# Test vectors from github.com/transparency-dev/merkle, file proof/verify_test.go
# (the `leaves` and `roots` tables; the same values are used by the Merkle tree
# tests of google/certificate-transparency). roots[i] is the RFC 6962 root of the
# tree holding the first i+1 leaves.
RFC6962_LEAVES = [
    bytes.fromhex(""),
    bytes.fromhex("00"),
    bytes.fromhex("10"),
    bytes.fromhex("2021"),
    bytes.fromhex("3031"),
    bytes.fromhex("40414243"),
    bytes.fromhex("5051525354555657"),
    bytes.fromhex("606162636465666768696a6b6c6d6e6f"),
]
RFC6962_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# Same repository, rfc6962/rfc6962_test.go (TestRFC6962Hasher).
EMPTY_TREE = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
NODE_N123_N456 = "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"


def _leaves(n: int, salt: str = "") -> list[bytes]:
    return [leaf_hash(f"{salt}record {i}".encode()) for i in range(n)]


def _reference_mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, written as literally as possible (slices, recursion)."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    left, right = _reference_mth(leaves[:k]), _reference_mth(leaves[k:])
    return hashlib.sha256(b"\x01" + left + right).digest()


def test_empty_tree_and_node_vectors() -> None:
    assert EMPTY_ROOT.hex() == EMPTY_TREE
    assert tree_head([]).hex() == EMPTY_TREE
    assert MerkleAccumulator().root().hex() == EMPTY_TREE
    assert node_hash(b"N123", b"N456").hex() == NODE_N123_N456


@pytest.mark.parametrize("size", range(1, 9))
def test_published_roots(size: int) -> None:
    leaves = [leaf_hash(data) for data in RFC6962_LEAVES[:size]]
    assert tree_head(leaves).hex() == RFC6962_ROOTS[size - 1]
    acc = MerkleAccumulator()
    for leaf in leaves:
        acc.append(leaf)
    assert acc.root().hex() == RFC6962_ROOTS[size - 1]


def test_accumulator_matches_tree_head_for_every_size_up_to_70() -> None:
    leaves = _leaves(70)
    acc = CompactRange()
    assert acc.root() == tree_head([])
    for n in range(1, 71):
        acc.append(leaves[n - 1])
        assert acc.size == n
        expected = tree_head(leaves[:n])
        assert acc.root() == expected, n
        assert expected == _reference_mth(leaves[:n]), n


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_accumulator_matches_tree_head_for_random_larger_sizes(seed: int) -> None:
    rng = random.Random(seed)
    sizes = sorted({rng.randrange(71, 5000) for _ in range(6)} | {1023, 1024, 1025, 4096})
    leaves = _leaves(sizes[-1], salt=str(seed))
    acc = MerkleAccumulator()
    done = 0
    for size in sizes:
        for leaf in leaves[done:size]:
            acc.append(leaf)
        done = size
        assert acc.root() == tree_head(leaves[:size]) == _reference_mth(leaves[:size]), size


def test_accumulator_keeps_one_hash_per_set_bit() -> None:
    acc = MerkleAccumulator()
    for n, leaf in enumerate(_leaves(300), start=1):
        acc.append(leaf)
        assert len(acc.hashes) == n.bit_count()
    # 2**k leaves collapse into a single perfect tree.
    acc256 = MerkleAccumulator()
    for leaf in _leaves(256):
        acc256.append(leaf)
    assert acc256.hashes == (acc256.root(),)


def test_state_round_trip() -> None:
    leaves = _leaves(77)
    acc = MerkleAccumulator()
    for leaf in leaves[:50]:
        acc.append(leaf)
    restored = MerkleAccumulator.from_state(acc.size, acc.hashes)
    for leaf in leaves[50:]:
        restored.append(leaf)
    assert restored.size == 77
    assert restored.root() == tree_head(leaves)
    with pytest.raises(ValueError, match="set bit"):
        MerkleAccumulator.from_state(50, acc.hashes[:-1])


def test_order_and_content_matter() -> None:
    leaves = _leaves(10)
    swapped = leaves[:]
    swapped[3], swapped[4] = swapped[4], swapped[3]
    assert tree_head(swapped) != tree_head(leaves)
    assert tree_head(leaves[:-1]) != tree_head(leaves)
    # Second-preimage guard: a leaf holding two child hashes is not the node above them.
    assert leaf_hash(leaves[0] + leaves[1]) != tree_head(leaves[:2])


def test_hash_size_is_checked() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        tree_head([b"short"])
    with pytest.raises(ValueError, match="32 bytes"):
        MerkleAccumulator().append(bytes(33))
