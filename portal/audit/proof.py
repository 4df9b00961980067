"""RFC 6962 consistency proofs (section 2.1.2), as verified by RFC 9162 section 2.1.4.2.

A consistency proof from size ``m`` to size ``n`` is the list of Merkle Tree
Hashes of the ranges :func:`consistency_ranges` names, so whoever holds the
leaves (the portal's database) can build it range by range without keeping a
tree; :func:`verify_consistency` needs only the two roots and the proof.

The ranges inside ``[0, m)`` are always perfect subtrees from the compact
range of ``m`` (one per set bit of ``m``, see :func:`compact_ranges`), the
others lie inside ``[m, n)``: a prover that kept the compact range of ``m``
reads only the leaves added since.

No database code here: the witness (``portal.witness``) imports this module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = ["compact_ranges", "consistency_ranges", "verify_consistency"]

MAX_PROOF = 63
"""C2SP tlog-witness: no more than 63 consistency proof lines."""


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _largest_power_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def compact_ranges(size: int) -> list[tuple[int, int]]:
    """The perfect subtrees that make up ``[0, size)``, largest (leftmost) first."""
    ranges = []
    start = 0
    for bit in reversed(range(size.bit_length())):
        if size >> bit & 1:
            ranges.append((start, start + (1 << bit)))
            start += 1 << bit
    return ranges


def consistency_ranges(m: int, n: int) -> list[tuple[int, int]]:
    """The leaf ranges whose roots form PROOF(m, D[n]), in proof order (empty if m is 0 or n)."""
    if not 0 <= m <= n:
        raise ValueError("a consistency proof needs 0 <= old size <= new size")
    if m in (0, n):
        return []

    def sub(m: int, lo: int, hi: int, complete: bool) -> list[tuple[int, int]]:
        if m == hi - lo:
            return [] if complete else [(lo, hi)]
        k = _largest_power_below(hi - lo)
        if m <= k:
            return [*sub(m, lo, lo + k, complete), (lo + k, hi)]
        return [*sub(m - k, lo + k, hi, False), (lo, lo + k)]

    return sub(m, 0, n, True)


def verify_consistency(m: int, n: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` shows the tree of ``n`` leaves with ``new_root`` extends the one of
    ``m`` leaves with ``old_root`` (any tree extends the empty one)."""
    if not 0 <= m <= n or len(proof) > MAX_PROOF or any(len(h) != 32 for h in proof):
        return False
    if m == 0:
        return not proof
    if m == n:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if m & (m - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        path.insert(0, old_root)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
