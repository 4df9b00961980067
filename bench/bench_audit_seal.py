"""The cost of proving, before each seal, that the log extends the outside checkpoints.

Usage: .venv/bin/python bench/bench_audit_seal.py [--records 500] [--rounds 20]

On SQLite (a temporary database migrated to head), with a checkpoint directory:
each round appends ``--records`` access records in one transaction and then seals
one checkpoint, alternating rounds with the consistency check on and off ("off"
is a benchmark-only build: ``ledger._require_anchors`` is swapped for a no-op in
this process). Reported: the median seal time with and without the check, the
ratio, and the seal with the check as a share of appending the records it
covers. The check reads the records added since the newest exported checkpoint
(one round's worth here) plus the stored compact range at that size.
This is a plain script, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal.audit import keys, ledger
from portal.audit.service import Requester, record
from portal.db import make_engine, session_factory, unit_of_work
from portal.migrate import upgrade
from portal.policy import Allow
from portal.settings import Settings

WHO = Requester(user_id="11111111-1111-4111-8111-111111111111", user_name="Ilse Bakker",
                user_role="care_coordinator", organisation_id=None, session_ref="abcd",
                client_address="127.0.0.1")
CASE = "22222222-2222-4222-8222-222222222222"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        engine = make_engine(f"sqlite:///{directory / 'bench.db'}")
        upgrade(engine)
        settings = keys.with_dev_signing_key(Settings(
            mode="dev", data_dir=directory, audit_checkpoint_every=10**9,
            audit_checkpoint_seconds=10**6, audit_checkpoint_dir=directory / "checkpoints"))
        config = keys.audit_config(settings)
        made = session_factory(engine)
        ledger.configure(made, config)
        real_check = ledger._require_anchors
        now = datetime(2026, 12, 4, tzinfo=UTC)
        seal_on: list[float] = []
        seal_off: list[float] = []
        appends: list[float] = []
        for round_ in range(args.rounds):
            started = time.perf_counter()
            with unit_of_work(made) as db:
                for _ in range(args.records):
                    now += timedelta(milliseconds=1)
                    record(db, WHO, now, event_type="case.view", action="read",
                           decision=Allow(basis="participant:chair"), case_id=CASE)
            appends.append(time.perf_counter() - started)
            checking = round_ % 2 == 0
            ledger._require_anchors = real_check if checking else (  # type: ignore[assignment]
                lambda *_: None)
            started = time.perf_counter()
            with unit_of_work(made) as db:
                ledger.seal(db, config, now)
            (seal_on if checking else seal_off).append(time.perf_counter() - started)
        ledger._require_anchors = real_check  # type: ignore[assignment]
        engine.dispose()
    on, off, append = (statistics.median(x) for x in (seal_on, seal_off, appends))
    print(f"records per checkpoint: {args.records}, rounds: {args.rounds}")
    print(f"seal with the consistency check:    {on * 1000:8.2f} ms (median)")
    print(f"seal without it:                    {off * 1000:8.2f} ms (median)")
    print(f"ratio with/without:                 {on / off:8.2f}")
    print(f"seal with check / appending records: {on / append:8.3f}")


if __name__ == "__main__":
    main()
