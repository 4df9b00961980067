"""`portal audit verify` end to end: the stored log read back from the database and verified.

Usage: .venv/bin/python bench/bench_audit_verify_db.py [--records 200000] [--postgres]

Writes ``--records`` access records through ``portal.audit.service.record`` (in
transactions of 5,000, checkpoints every 10,000) into a fresh SQLite database
(and PostgreSQL with ``--postgres``), then times ``verify_database`` in both
modes side by side (chain-only and full, interleaved, best of ``--rounds``,
and their ratio): reading
every row, the column check against the sealed encoding, the chain, the
Merkle roots and the signatures. bench_audit_verify.py times the in-memory
verifier alone. This is a plain script, not a test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.audit import ledger
from portal.audit.replay import database_checkpoints, verify_database
from portal.audit.service import Requester, record
from portal.db import make_engine, session_factory, unit_of_work
from portal.migrate import upgrade
from portal.policy import Allow, Deny

ORIGIN = "bench.example/access-log"
START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
BATCH = 5000


def fill(url: str, count: int, key: Ed25519PrivateKey) -> float:
    engine = make_engine(url)
    upgrade(engine)
    made = session_factory(engine)
    ledger.configure(made, ledger.AuditConfig(origin=ORIGIN, key_name=ORIGIN, signing_key=key,
                                              every=10_000, interval=timedelta(days=1)))
    who = Requester("11111111-1111-4111-8111-111111111111", "Ilse Bakker", "care_coordinator",
                    "22222222-2222-4222-8222-222222222222", "abcdabcdabcdabcd", "127.0.0.1")
    allowed = Allow(basis="participant:chair;basis:consent")
    denied = Deny(reason="not_a_participant", hide=True)
    started = time.perf_counter()
    done = 0
    while done < count:
        with unit_of_work(made) as db:
            for _ in range(min(BATCH, count - done)):
                done += 1
                record(db, who, START + timedelta(milliseconds=1537 * done),
                       event_type="case.view", action="read",
                       decision=denied if done % 50 == 0 else allowed,
                       case_id="33333333-3333-4333-8333-333333333333",
                       child_id="44444444-4444-4444-8444-444444444444", object_type="case",
                       object_id="33333333-3333-4333-8333-333333333333")
    engine.dispose()
    return time.perf_counter() - started


def verify(label: str, url: str, count: int, key: Ed25519PrivateKey, rounds: int) -> None:
    took_fill = fill(url, count, key)
    print(f"{label:<10} wrote {count:,} records in {took_fill:.1f} s "
          f"({count / took_fill:,.0f}/s in transactions of {BATCH})")
    engine = make_engine(url)
    times: dict[bool, list[float]] = {True: [], False: []}
    try:
        # Interleaved, best of ``rounds``: the machine is shared and noisy.
        for _ in range(rounds):
            for columns in (False, True):
                started = time.perf_counter()
                report = verify_database(engine, [(ORIGIN, key.public_key())],
                                         database_checkpoints(engine), columns=columns)
                times[columns].append(time.perf_counter() - started)
                if not report.ok:
                    raise SystemExit(report.describe())
        for columns in (False, True):
            took = min(times[columns])
            mode = "full (columns too)" if columns else "--chain-only      "
            print(f"{label:<10} verify {mode}: {took:.2f} s = {count / took:,.0f} records/s "
                  f"({took / count * 1e6:.1f} s per 1M), "
                  f"{report.checkpoints_checked} checkpoints")
        print(f"{label:<10} full / chain-only: {min(times[True]) / min(times[False]):.2f}x "
              f"(best of {rounds}, interleaved)")
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="verify runs per mode")
    args = parser.parse_args()
    key = Ed25519PrivateKey.generate()
    with tempfile.TemporaryDirectory() as tmp:
        verify("SQLite", f"sqlite:///{tmp}/verify.db", args.records, key, args.rounds)
    if args.postgres:
        from bench.bench_audit_logging import durable_postgres

        with durable_postgres() as url:
            verify("PostgreSQL", url, args.records, key, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
