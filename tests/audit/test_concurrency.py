"""Several portal worker processes on one PostgreSQL database, read in parallel.

Every read must leave exactly one record, and the records must form one chain:
no two workers may take the same head (a fork) and no append may be lost.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.app import create_app
from portal.audit import keys
from portal.audit.models import AccessRecord, AuditCheckpoint
from portal.audit.replay import database_checkpoints, verify_database
from portal.db import make_engine
from portal.demo import DEMO_CASE, stable_id
from portal.settings import Settings
from tests.harness import PortalClient

ROOT = Path(__file__).resolve().parents[2]
CASE_ID = stable_id("case", DEMO_CASE.key)
WORKERS = 4
READS_PER_WORKER = 25
EVERY = 10  # tests.audit.portal_worker seals a checkpoint every 10 records
# Three participants of the demo case and one outsider, whose reads are refused.
READERS = {"ib": 200, "mentor": 200, "notulist": 200, "buitenstaander": 404}


@pytest.fixture
def workers(postgres_url: str, keys_dir: Path) -> Iterator[list[int]]:
    # Generate the dev secrets once, here: devkeys' first-use creation is not
    # safe against four processes racing for the same files.
    create_app(Settings(mode="dev", database_url=postgres_url, data_dir=keys_dir)
               ).state.portal.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [subprocess.Popen(
        [sys.executable, "-m", "tests.audit.portal_worker", postgres_url, str(keys_dir)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) for _ in range(WORKERS)]
    try:
        ports = []
        for process in processes:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.startswith("PORT "), f"a worker did not start: {line!r}"
            ports.append(int(line.split()[1]))
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
            if process.stdout is not None:
                process.stdout.close()


def test_parallel_reads_on_several_workers_leave_one_unforked_chain(
        postgres_url: str, keys_dir: Path, workers: list[int]) -> None:
    clients = {}
    for persona in READERS:
        client = PortalClient(f"http://127.0.0.1:{workers[0]}")
        client.login(persona)
        clients[persona] = client
    personas = list(READERS)
    jobs = [(personas[i % len(personas)], workers[i % WORKERS])
            for i in range(WORKERS * READS_PER_WORKER)]

    def read(job: tuple[str, int]) -> tuple[str, int]:
        persona, port = job
        # The session lives in the database: any worker serves it.
        response = clients[persona].get(f"http://127.0.0.1:{port}/cases/{CASE_ID}")
        return persona, response.status_code

    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(read, jobs))
    finally:
        for client in clients.values():
            client.close()
    assert all(status == READERS[persona] for persona, status in results), Counter(results)

    engine = make_engine(postgres_url)
    try:
        with Session(engine) as db:
            views = Counter(db.execute(
                select(AccessRecord.outcome).where(AccessRecord.event_type == "case.view",
                                                   AccessRecord.case_id == CASE_ID)).scalars())
            seqs = db.scalars(select(AccessRecord.seq).order_by(AccessRecord.seq)).all()
            sizes = db.scalars(select(AuditCheckpoint.size).order_by(AuditCheckpoint.size)).all()
        reads = WORKERS * READS_PER_WORKER
        assert views == {"allowed": reads * 3 // 4, "denied": reads // 4}
        assert seqs == list(range(1, len(seqs) + 1)), "no gaps and no duplicates"
        # An append seals once EVERY records are pending; one request appends its
        # records together (a case page and its sections), so a checkpoint may
        # cover a few more than EVERY, never twice as many.
        gaps = [after - before for before, after in pairwise([0, *sizes])]
        assert gaps and all(0 < gap < 2 * EVERY for gap in gaps), gaps
        assert len(seqs) - sizes[-1] < 2 * EVERY, (len(seqs), sizes[-1])
        settings = keys.with_dev_signing_key(Settings(mode="dev", data_dir=keys_dir))
        trusted = keys.trusted_keys(settings.effective_audit_origin,
                                    keys.load_signing_key(settings.audit_signing_key), ())
        report = verify_database(engine, trusted, database_checkpoints(engine))
        assert report.ok, report.describe()
        assert report.records_checked == len(seqs)
    finally:
        engine.dispose()
