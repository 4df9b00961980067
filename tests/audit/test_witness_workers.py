"""Four portal worker processes on one PostgreSQL database, each with its own witness
pusher, and one witness process: every checkpoint reaches the witness exactly once.

The workers start on a backlog of checkpoints sealed while no witness was configured,
so all four pushers wake at once on the same work (issue 11's double delivery)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from portal.app import create_app
from portal.audit import keys, ledger
from portal.audit.models import AuditCheckpoint
from portal.audit.service import Requester, record
from portal.db import make_engine, session_factory, unit_of_work
from portal.demo import DEMO_CASE, stable_id
from portal.policy import Allow
from portal.settings import Settings
from tests.harness import PortalClient
from tests.witness.process import WitnessProcess

ROOT = Path(__file__).resolve().parents[2]
CASE_ID = stable_id("case", DEMO_CASE.key)
WORKERS = 4
READS = 20
BACKLOG = 40  # records, sealed every 4: ten checkpoints waiting for the witness
WHO = Requester(user_id="11111111-1111-4111-8111-111111111111", user_name="Ilse Bakker",
                user_role="care_coordinator", organisation_id=None, session_ref="abcd",
                client_address="127.0.0.1")


def seal_a_backlog(url: str, settings: Settings) -> None:
    engine = make_engine(url)
    made = session_factory(engine)
    ledger.configure(made, replace(keys.audit_config(settings), every=4))
    try:
        for _ in range(BACKLOG):
            with unit_of_work(made) as db:
                record(db, WHO, datetime.now(UTC), event_type="case.view", action="read",
                       decision=Allow(basis="participant:chair"), case_id=CASE_ID)
    finally:
        engine.dispose()


def checkpoint_sizes(url: str) -> list[int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(select(AuditCheckpoint.size).order_by(AuditCheckpoint.size)))
    finally:
        engine.dispose()


def test_each_checkpoint_is_delivered_once_by_several_workers(
        postgres_url: str, keys_dir: Path, tmp_path: Path) -> None:
    create_app(Settings(mode="dev", database_url=postgres_url, data_dir=keys_dir)
               ).state.portal.close()
    settings = keys.with_dev_signing_key(Settings(mode="dev", data_dir=keys_dir))
    log_vkey = keys.vkey_of(settings.effective_audit_origin,
                            keys.load_signing_key(settings.audit_signing_key))
    seal_a_backlog(postgres_url, settings)
    witness = WitnessProcess(tmp_path, [log_vkey]).start()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [subprocess.Popen(
        [sys.executable, "-m", "tests.audit.portal_worker", postgres_url, str(keys_dir), "",
         witness.url, witness.vkey],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) for _ in range(WORKERS)]
    clients: list[PortalClient] = []
    try:
        ports = []
        for process in processes:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.startswith("PORT "), f"a worker did not start: {line!r}"
            ports.append(int(line.split()[1]))
        for port in ports:
            client = PortalClient(f"http://127.0.0.1:{port}")
            client.login("ib")
            clients.append(client)

        def read(i: int) -> int:
            return clients[i % WORKERS].get(
                f"http://127.0.0.1:{ports[i % WORKERS]}/cases/{CASE_ID}").status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(read, range(READS))) == {200}
        sealed = checkpoint_sizes(postgres_url)
        assert len(sealed) >= BACKLOG // 4
        deadline = time.monotonic() + 60
        # Waiting for the workers' pushers, not measuring them.
        while not witness.cosigned_sizes() or witness.cosigned_sizes()[-1] < sealed[-1]:
            assert time.monotonic() < deadline, witness.cosigned_sizes()
            time.sleep(0.1)
    finally:
        for client in clients:
            client.close()
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
            if process.stdout is not None:
                process.stdout.close()
        witness.stop()
    delivered = witness.cosigned_sizes()
    assert Counter(delivered).most_common(1)[0][1] == 1, Counter(delivered)
    assert delivered == sorted(delivered)
    assert set(sealed) <= set(delivered)
