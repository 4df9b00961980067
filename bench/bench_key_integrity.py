"""What issue 16's safeguards cost, as ratios (not timed tests).

Usage: .venv/bin/python bench/bench_key_integrity.py [--size-mib 64] [--keys 2000]

* download: ``decrypt_stream_exact`` (size and segment count checked against
  the authenticated end, last segment held back) vs. ``decrypt_stream``;
* new data key: ``Vault.new_key`` (which holds its KEK version's row in
  shared mode until commit) vs. wrapping and inserting the row alone, each
  key in its own transaction on a migrated SQLite database.

The best of ``--repeat`` runs is reported.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crypto import LocalKeyFileProvider, new_data_key
from crypto.stream import (
    DEFAULT_SEGMENT_SIZE,
    StreamEncryptor,
    decrypt_stream,
    decrypt_stream_exact,
)
from portal.db import make_engine, session_factory, unit_of_work
from portal.migrate import upgrade
from portal.vault.models import DataKey
from portal.vault.service import Vault


def _best(fn: Callable[[], None], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def download(size_mib: int, repeat: int) -> None:
    ikm, ad = new_data_key(), b"bench"
    data = os.urandom(size_mib * 1024 * 1024)
    pieces = list(StreamEncryptor(ikm, ad).encrypt_segments([data]))
    stored = [pieces[0] + pieces[1], *pieces[2:]]

    def plain() -> None:
        for _ in decrypt_stream(ikm, ad, stored, segment_size=DEFAULT_SEGMENT_SIZE):
            pass

    def exact() -> None:
        for _ in decrypt_stream_exact(ikm, ad, stored, size=len(data), segments=len(stored),
                                      segment_size=DEFAULT_SEGMENT_SIZE):
            pass

    plain()  # warm up: the first pass pays for page faults on the fresh buffers
    base, checked = _best(plain, repeat), _best(exact, repeat)
    print(f"download {size_mib} MiB: decrypt_stream {size_mib / base:.0f} MiB/s, "
          f"decrypt_stream_exact {size_mib / checked:.0f} MiB/s, ratio {checked / base:.3f}")


def new_keys(count: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        sessions = session_factory(engine)
        provider = LocalKeyFileProvider(Path(tmp) / "keys" / "keyring.json", create=True)
        vault = Vault(provider)
        now = datetime.now(UTC)

        def bare() -> None:
            for _ in range(count):
                with unit_of_work(sessions) as db:
                    wrapped = provider.wrap(new_data_key())
                    db.add(DataKey(owner_type="bench", owner_id="bench",
                                   kek_version=wrapped.kek_version, wrapped=wrapped.blob,
                                   created_at=now))

        def held() -> None:
            for _ in range(count):
                with unit_of_work(sessions) as db:
                    vault.new_key(db, "bench", "bench", now)

        base, guarded = _best(bare, repeat), _best(held, repeat)
        engine.dispose()
    print(f"new data key, own transaction, SQLite: bare {count / base:.0f}/s, "
          f"with the KEK-state hold {count / guarded:.0f}/s, ratio {guarded / base:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=64)
    parser.add_argument("--keys", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    download(args.size_mib, args.repeat)
    new_keys(args.keys, args.repeat)


if __name__ == "__main__":
    main()
