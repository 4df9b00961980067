"""Throughput of attachment stream encryption vs. raw AES-256-GCM, on one core.

Usage: .venv/bin/python bench/bench_attachments_crypto.py [--size-mib 128]
       [--segment-size 65536] [--chunk-size 65536] [--repeat 5]

Three ways over the same random bytes:

* raw 1-shot: one AES-256-GCM call over the whole buffer (no framing; large
  buffers fall out of the CPU caches, so this is often *slower*);
* raw/seg: one AES-256-GCM call per segment-sized slice, no framing, no
  buffering -- the fair baseline for the cost of the streaming format;
* stream: crypto.stream fed with ``--chunk-size`` chunks, as an upload handler
  would (re-cutting into segments, look-ahead, HKDF, nonce construction).

The best of ``--repeat`` runs is reported. This is a plain script, not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crypto.stream import DEFAULT_SEGMENT_SIZE, StreamEncryptor, decrypt_stream

_MAX_RAW = 2**31 - 1 - 16  # cryptography's one-shot AEAD limit


def _best(fn: Callable[[], None], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _chunks(data: memoryview, size: int) -> Iterator[memoryview]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=128)
    parser.add_argument("--segment-size", type=int, default=DEFAULT_SEGMENT_SIZE)
    parser.add_argument("--chunk-size", type=int, default=64 * 1024)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    size = min(args.size_mib * 1024 * 1024, _MAX_RAW)
    data = memoryview(os.urandom(size))
    key = os.urandom(32)
    ad = b"bench-attachment"
    nonce = os.urandom(12)
    raw = AESGCM(key)
    sealed = raw.encrypt(nonce, data, ad)
    plain_seg = args.segment_size - 16
    sealed_segs = [raw.encrypt(nonce, c, None) for c in _chunks(data, plain_seg)]
    enc = StreamEncryptor(key, ad, segment_size=args.segment_size)
    stream_ct = b"".join(enc.encrypt_segments(_chunks(data, args.chunk_size)))  # type: ignore[arg-type]
    ct_view = memoryview(stream_ct)

    def raw_encrypt() -> None:
        raw.encrypt(nonce, data, ad)

    def raw_decrypt() -> None:
        raw.decrypt(nonce, sealed, ad)

    def seg_encrypt() -> None:
        for piece in _chunks(data, plain_seg):
            raw.encrypt(nonce, piece, None)

    def seg_decrypt() -> None:
        for piece in sealed_segs:
            raw.decrypt(nonce, piece, None)

    def stream_encrypt() -> None:
        e = StreamEncryptor(key, ad, segment_size=args.segment_size)
        for _ in e.encrypt_segments(_chunks(data, args.chunk_size)):  # type: ignore[arg-type]
            pass

    def stream_decrypt() -> None:
        chunks = _chunks(ct_view, args.chunk_size)
        for _ in decrypt_stream(key, ad, chunks, segment_size=args.segment_size):  # type: ignore[arg-type]
            pass

    mib = size / (1024 * 1024)
    print(
        f"{mib:.0f} MiB, segment {args.segment_size} B, chunk {args.chunk_size} B, "
        f"best of {args.repeat}, one core"
    )
    header = ("raw 1-shot", "raw/seg", "stream", "stream/raw/seg")
    print(f"{'MiB/s':10}" + "".join(f"{h:>16}" for h in header))
    for name, fns in (
        ("encrypt", (raw_encrypt, seg_encrypt, stream_encrypt)),
        ("decrypt", (raw_decrypt, seg_decrypt, stream_decrypt)),
    ):
        one_shot, per_seg, stream = (mib / _best(fn, args.repeat) for fn in fns)
        print(f"{name:10}{one_shot:16.0f}{per_seg:16.0f}{stream:16.0f}{stream / per_seg:16.2f}")


if __name__ == "__main__":
    main()
