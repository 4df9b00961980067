"""Benchmark of the access-log verifier (portal.audit.verify.verify_log).

Builds N access records in memory (default 1,000,000) with realistic encodings of
about 300 bytes, a hash chain over them and a signed checkpoint every
``--checkpoint-every`` records, then times one verification run. As a yardstick it
also times, in the same run, plain SHA-256 over the same encodings: once as a
Python loop with one ``hashlib.sha256(encoding).digest()`` per record and once as
a single streaming hash over all the bytes (the machine's raw SHA-256 speed).

The goal is 1M records in under 5 s on one core. Run::

    .venv/bin/python bench/bench_audit_verify.py [--records N] [--checkpoint-every K]

This is a plain script, not a pytest module.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import sys
import time
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.audit.chain import GENESIS, canonical_encoding, chain_hash, format_timestamp, leaf_hash
from portal.audit.checkpoint import sign_checkpoint
from portal.audit.merkle import MerkleAccumulator
from portal.audit.verify import StoredRecord, verify_log

ORIGIN = "mdo.example/audit"
START = datetime(2026, 3, 2, 7, 0, 0, tzinfo=UTC)
EVENTS = ("case.view", "case.report.view", "consent.view", "case.export", "child.view")
NAMES = ("J. de Vries", "A. El Amrani", "M. Jansen", "S. van den Berg", "R. Öztürk")


def _uuid(seed: int, salt: int) -> str:
    x = (seed * 0x9E3779B97F4A7C15 + salt * 0xBF58476D1CE4E5B9) % (1 << 128)
    h = f"{x:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _values(seq: int) -> dict[str, object]:
    return {
        "action_code": "R",
        "case_id": _uuid(seq % 997, 1),
        "child_id": _uuid(seq % 991, 2),
        "event_type": EVENTS[seq % len(EVENTS)],
        "occurred_at": START + timedelta(milliseconds=1537 * seq),
        "outcome": "denied" if seq % 50 == 0 else "allowed",
        "reason": None,
        "seq": seq,
        "user_id": _uuid(seq % 211, 3),
        "user_name": NAMES[seq % len(NAMES)],
    }


def realistic_fields(seq: int) -> dict[str, object]:
    """One access record's fields (names follow portal.audit.models.AccessRecord)."""
    return _values(seq)


def fast_encoding(seq: int) -> bytes:
    """``canonical_encoding(realistic_fields(seq))`` without the generic encoder's cost.

    The keys above are already sorted and every value is ASCII without characters
    JSON would escape, except the user name, which is escaped like json does.
    ``main`` checks the equality on a sample before timing anything.
    """
    v = _values(seq)
    name = str(v["user_name"]).encode("ascii", "backslashreplace").decode("ascii")
    name = name.replace("\\x", "\\u00")
    occurred = v["occurred_at"]
    assert isinstance(occurred, datetime)
    return (
        f'{{"action_code":"R","case_id":"{v["case_id"]}","child_id":"{v["child_id"]}",'
        f'"event_type":"{v["event_type"]}","occurred_at":"{format_timestamp(occurred)}",'
        f'"outcome":"{v["outcome"]}","reason":null,"seq":{seq},'
        f'"user_id":"{v["user_id"]}","user_name":"{name}"}}'
    ).encode("ascii")


def build(n: int, every: int, key: Ed25519PrivateKey) -> tuple[list[StoredRecord], list[str]]:
    records: list[StoredRecord] = []
    checkpoints: list[str] = []
    acc = MerkleAccumulator()
    prev = GENESIS
    for seq in range(1, n + 1):
        encoding = fast_encoding(seq)
        record_hash = chain_hash(prev, encoding)
        records.append(StoredRecord(seq, encoding, prev, record_hash))
        prev = record_hash
        acc.append(leaf_hash(encoding))
        if seq % every == 0 or seq == n:
            checkpoints.append(sign_checkpoint(ORIGIN, seq, acc.root(), key, ORIGIN))
    return records, checkpoints


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--checkpoint-every", type=int, default=10_000)
    args = parser.parse_args(argv)
    n: int = args.records

    for seq in range(1, n + 1, max(1, n // 97)):
        if fast_encoding(seq) != canonical_encoding(realistic_fields(seq)):
            print(f"fast_encoding differs from canonical_encoding for seq {seq}", file=sys.stderr)
            return 2

    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"bench log key").digest())
    t0 = time.perf_counter()
    records, checkpoints = build(n, args.checkpoint_every, key)
    t_build = time.perf_counter() - t0
    encodings = [r.encoding for r in records]
    total_bytes = sum(map(len, encodings))
    print(
        f"built {n:,} records ({total_bytes / n:.0f} bytes/encoding on average, "
        f"{len(checkpoints)} checkpoints) in {t_build:.1f} s"
    )

    gc.collect()
    sha256 = hashlib.sha256
    t0 = time.perf_counter()
    for encoding in encodings:
        sha256(encoding).digest()
    t_loop = time.perf_counter() - t0

    t0 = time.perf_counter()
    stream = sha256()
    for encoding in encodings:
        stream.update(encoding)
    stream.digest()
    t_stream = time.perf_counter() - t0

    calls = 0

    def progress(done: int) -> None:
        nonlocal calls
        calls += 1

    keys = [(ORIGIN, key.public_key())]
    gc.collect()
    t0 = time.perf_counter()
    result = verify_log(records, checkpoints, keys, origin=ORIGIN, progress=progress)
    t_verify = time.perf_counter() - t0
    if not result.ok or result.records_checked != n:
        print(f"verification failed: {result}", file=sys.stderr)
        return 1

    per_million = t_verify / n * 1_000_000
    print(
        f"verify_log: {t_verify:.3f} s for {n:,} records = {n / t_verify:,.0f} records/s "
        f"({per_million:.2f} s per 1M; goal < 5 s) "
        f"[{result.checkpoints_checked} checkpoints, {calls} progress calls]"
    )
    print(
        f"raw SHA-256, one digest per encoding (Python loop): {t_loop:.3f} s = "
        f"{n / t_loop:,.0f} hashes/s, {total_bytes / t_loop / 1e6:,.0f} MB/s"
    )
    print(
        f"raw SHA-256, one stream over the same bytes: {t_stream:.3f} s = "
        f"{total_bytes / t_stream / 1e6:,.0f} MB/s"
    )
    print(
        f"ratio verify / raw per-record hashing: {t_verify / t_loop:.2f}x; "
        f"verify / raw streaming hashing: {t_verify / t_stream:.2f}x "
        "(verify hashes ~3 times per record: chain, leaf, ~1 Merkle node)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
