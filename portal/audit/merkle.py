"""RFC 6962 (section 2.1) Merkle Tree Hash over leaf hashes, batch and incremental.

The inputs here are *leaf hashes* (``SHA-256(0x00 || entry)``, see
:func:`portal.audit.chain.leaf_hash`), not raw entries.

* ``MTH({}) = SHA-256()`` (the hash of the empty string);
* ``MTH({d0}) = leaf hash of d0``;
* ``MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`` where ``k`` is the
  largest power of two smaller than ``n``.

:func:`tree_head` follows that definition literally. :class:`MerkleAccumulator`
(alias :data:`CompactRange`) computes the same root incrementally while keeping
only the roots of the perfect subtrees that make up ``[0, size)`` - one per set
bit of ``size``, so at most 64 hashes - which lets a verifier stream millions of
records in constant memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "CompactRange",
    "MerkleAccumulator",
    "node_hash",
    "tree_head",
]

_sha256 = hashlib.sha256
_NODE_PREFIX = b"\x01"
_HASH_SIZE = 32

EMPTY_ROOT = _sha256(b"").digest()
"""Root of the empty tree (RFC 6962: the hash of the empty string)."""


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node hash ``SHA-256(0x01 || left || right)``."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def _check_hash(value: bytes) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)) or len(value) != _HASH_SIZE:
        raise ValueError(f"a Merkle hash must be {_HASH_SIZE} bytes")
    return bytes(value)


def _mth(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    n = end - start
    if n == 1:
        return leaves[start]
    k = 1 << ((n - 1).bit_length() - 1)  # largest power of two < n
    return node_hash(_mth(leaves, start, start + k), _mth(leaves, start + k, end))


def tree_head(leaf_hashes: Sequence[bytes]) -> bytes:
    """The RFC 6962 Merkle Tree Hash of ``leaf_hashes`` (each 32 bytes)."""
    leaves = [_check_hash(h) for h in leaf_hashes]
    if not leaves:
        return EMPTY_ROOT
    return _mth(leaves, 0, len(leaves))


class MerkleAccumulator:
    """Append-only RFC 6962 tree that remembers only O(log n) hashes.

    ``_nodes[i]`` is the root of a perfect subtree; their sizes are the set bits
    of ``size`` from the most significant down, left to right in the tree.
    """

    __slots__ = ("_nodes", "_size")

    def __init__(self) -> None:
        self._nodes: list[bytes] = []
        self._size = 0

    @classmethod
    def from_state(cls, size: int, hashes: Iterable[bytes]) -> MerkleAccumulator:
        """Restore an accumulator saved as (:attr:`size`, :attr:`hashes`)."""
        nodes = [_check_hash(h) for h in hashes]
        if size < 0 or size.bit_count() != len(nodes):
            raise ValueError("a compact range of this size needs one hash per set bit of the size")
        acc = cls()
        acc._nodes = nodes
        acc._size = size
        return acc

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The perfect-subtree roots (largest first); with :attr:`size` this is the full state."""
        return tuple(self._nodes)

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash (32 bytes)."""
        h = leaf_hash
        if type(h) is not bytes or len(h) != _HASH_SIZE:  # fast path for plain bytes
            h = _check_hash(h)
        nodes = self._nodes
        n = self._size
        # Every trailing 1-bit of n is a perfect subtree of the same height as the
        # one being carried up: merge them, like binary addition.
        while n & 1:
            h = _sha256(_NODE_PREFIX + nodes.pop() + h).digest()
            n >>= 1
        nodes.append(h)
        self._size += 1

    def root(self) -> bytes:
        """The RFC 6962 root of the leaves appended so far."""
        nodes = self._nodes
        if not nodes:
            return EMPTY_ROOT
        h = nodes[-1]
        for left in reversed(nodes[:-1]):
            h = _sha256(_NODE_PREFIX + left + h).digest()
        return h

    def __repr__(self) -> str:
        return f"MerkleAccumulator(size={self._size})"


CompactRange = MerkleAccumulator
"""The transparency-dev name for the same structure (the compact range ``[0, size)``)."""
