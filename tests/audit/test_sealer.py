"""Sealing on a quiet timer and at shutdown: the records after the last checkpoint are
sealed once they have waited the configured interval, or when the portal stops."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from portal.audit import keys, ledger
from portal.audit.models import AuditChainHead, AuditCheckpoint
from portal.audit.sealer import seal_if_waiting
from portal.audit.service import record
from portal.db import make_engine, session_factory, unit_of_work
from portal.demo import DEMO_CASE, stable_id
from portal.policy import Allow
from portal.settings import Settings
from tests.audit.test_owner_attacks import WHO
from tests.harness import FakeClock, Running

CASE_ID = stable_id("case", DEMO_CASE.key)


def sizes(sessions: Any) -> list[int]:
    with sessions() as db:
        return list(db.scalars(select(AuditCheckpoint.size).order_by(AuditCheckpoint.size)))


def test_a_quiet_tail_is_sealed_after_the_interval(database_url: str, keys_dir: Path) -> None:
    settings = keys.with_dev_signing_key(Settings(mode="dev", data_dir=keys_dir,
                                                  audit_checkpoint_seconds=300))
    config = keys.audit_config(settings)
    engine = make_engine(database_url)
    made = session_factory(engine)
    ledger.configure(made, config)
    clock = FakeClock()
    try:
        for _ in range(3):
            with unit_of_work(made) as db:
                record(db, WHO, clock(), event_type="case.view", action="read",
                       decision=Allow(basis="participant:chair"), case_id=CASE_ID)
        assert sizes(made) == [1]  # the first record sealed at once, then nothing came
        assert seal_if_waiting(made, config, clock) is None  # not waited long enough
        clock.advance(seconds=299)
        assert seal_if_waiting(made, config, clock) is None
        clock.advance(seconds=1)
        assert seal_if_waiting(made, config, clock) == 3
        assert seal_if_waiting(made, config, clock) is None  # nothing new
        assert sizes(made) == [1, 3]
    finally:
        engine.dispose()


def test_stopping_the_portal_seals_the_tail(start_portal: Any, sqlite_url: str) -> None:
    running: Running = start_portal(sqlite_url)
    client = running.client()
    client.login("ib")
    assert client.page(f"/cases/{CASE_ID}").status_code == 200
    sessions = running.portal.sessions
    with sessions() as db:
        head = db.scalars(select(AuditChainHead)).one()
        assert head.checkpoint_size < head.seq  # an unsealed tail
    workers = running.portal.witness  # what Portal.close() stops at shutdown
    assert workers is not None
    workers.stop()
    with sessions() as db:
        head = db.scalars(select(AuditChainHead)).one()
        assert head.checkpoint_size == head.seq
    assert sizes(sessions)[-1] == head.seq


def test_the_sealer_runs_in_the_background(start_portal: Any, sqlite_url: str) -> None:
    running: Running = start_portal(sqlite_url, audit_checkpoint_seconds=5)
    client = running.client()
    client.login("ib")
    assert client.page(f"/cases/{CASE_ID}").status_code == 200
    sessions = running.portal.sessions
    with sessions() as db:
        seq = db.scalar(select(AuditChainHead.seq))
    running.clock.advance(seconds=5)
    workers = running.portal.witness
    assert workers is not None and workers.sealer is not None
    workers.sealer.poke()
    deadline = time.monotonic() + 20
    while not sizes(sessions) or sizes(sessions)[-1] < (seq or 0):
        assert time.monotonic() < deadline  # waiting for the thread, not timing it
        time.sleep(0.05)
