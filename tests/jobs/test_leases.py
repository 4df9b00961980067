"""Leases on each engine: one holder at a time, and a dead holder's lease runs out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crypto import LocalKeyFileProvider
from portal.db import make_engine, session_factory, unit_of_work
from portal.documents.cli import SWEEP_LEASE, sweep
from portal.jobs.leases import claim_rows, exclusive, take_job_lease
from portal.jobs.models import JobLease
from portal.mail.catcher import MailCatcher
from portal.mail.models import OutboxMessage
from portal.mail.service import LEASE, SmtpConfig, deliver_pending, enqueue
from portal.vault.service import Vault
from tests.harness import FakeClock


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def catcher() -> Iterator[MailCatcher]:
    catcher = MailCatcher().start()
    yield catcher
    catcher.stop()


def test_a_job_lease_has_one_holder_until_it_expires(sessions: sessionmaker[Session]) -> None:
    now = datetime.now(UTC)
    minute = timedelta(minutes=1)
    with unit_of_work(sessions) as db:
        assert take_job_lease(db, "purge", "host-a:1", now, minute)
    with unit_of_work(sessions) as db:
        assert not take_job_lease(db, "purge", "host-b:2", now + timedelta(seconds=59), minute)
        assert not take_job_lease(db, "purge", "host-a:1", now + timedelta(seconds=59),
                                  minute), "a job runs once per lease, also in its holder"
    with unit_of_work(sessions) as db:
        assert take_job_lease(db, "purge", "host-b:2", now + timedelta(minutes=3), minute), \
            "a lease its holder stopped renewing (a crash) passes on"
        assert db.get(JobLease, "purge").holder == "host-b:2"  # type: ignore[union-attr]


def test_an_exclusive_job_runs_once_per_period_and_a_failed_run_keeps_no_lease(
        sessions: sessionmaker[Session]) -> None:
    runs: list[datetime] = []

    def job(db: Session, now: datetime) -> None:
        runs.append(now)
        if len(runs) == 1:
            raise RuntimeError("the first run fails")

    guarded = exclusive("test-job", job, timedelta(minutes=5))
    now = datetime.now(UTC)
    with pytest.raises(RuntimeError), unit_of_work(sessions) as db:
        guarded(db, now)
    with unit_of_work(sessions) as db:
        guarded(db, now)  # the failed run's lease was rolled back with it
    with unit_of_work(sessions) as db:
        guarded(db, now + timedelta(minutes=1))  # within the period: not again
    with unit_of_work(sessions) as db:
        guarded(db, now + timedelta(minutes=6))
    assert runs == [now, now, now + timedelta(minutes=6)]


def test_mail_claimed_by_a_worker_that_died_goes_out_once_its_lease_expires(
        sessions: sessionmaker[Session], catcher: MailCatcher) -> None:
    clock = FakeClock()
    with unit_of_work(sessions) as db:
        for n in range(3):
            enqueue(db, clock(), kind="test", recipient=f"r{n}@example.test",
                    subject=f"bericht {n}", body="-")
    with unit_of_work(sessions) as db:  # a worker claims the messages, then is killed
        dead = claim_rows(db, OutboxMessage.id, OutboxMessage.lease_holder,
                          OutboxMessage.lease_until, select(OutboxMessage.id), "dead:1",
                          clock(), LEASE)
    assert len(dead) == 3
    config = SmtpConfig("127.0.0.1", catcher.port, "portal@example.test")
    assert deliver_pending(sessions, config, clock, holder="alive:2") == 0, \
        "claimed mail is the claimant's while its lease holds"
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert deliver_pending(sessions, config, clock, holder="alive:2") == 3
    assert deliver_pending(sessions, config, clock, holder="alive:2") == 0
    assert sorted(m.subject for m in catcher.snapshot()) == ["bericht 0", "bericht 1",
                                                             "bericht 2"]
    with sessions() as db:
        assert db.scalar(select(func.count()).where(OutboxMessage.lease_holder.is_not(None),
                                                    )) == 0, "a sent message holds no lease"


def test_a_worker_whose_lease_ran_out_does_not_send(
        sessions: sessionmaker[Session], catcher: MailCatcher) -> None:
    """A stalled worker (a long GC pause, a slow SMTP server) must not send mail it lost."""
    clock = FakeClock()
    with unit_of_work(sessions) as db:
        enqueue(db, clock(), kind="test", recipient="r@example.test", subject="een", body="-")
    config = SmtpConfig("127.0.0.1", catcher.port, "portal@example.test")
    stalled = FakeClock(clock())

    def late() -> datetime:  # claims now, looks again after its lease has passed
        moment = stalled()
        stalled.advance(seconds=LEASE.total_seconds() + 1)
        return moment

    assert deliver_pending(sessions, config, late, holder="slow:1") == 0
    assert catcher.snapshot() == []


def test_many_takers_at_once_one_gets_the_lease(sessions: sessionmaker[Session]) -> None:
    """Eight threads, each its own connection, ask at the same moment: one wins."""
    now = datetime.now(UTC)
    start = threading.Barrier(8)

    def take(n: int) -> bool:
        start.wait()
        with unit_of_work(sessions) as db:
            return take_job_lease(db, "contended", f"host:{n}", now, timedelta(minutes=5))

    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(take, range(8)))
    assert won.count(True) == 1
    with sessions() as db:
        lease = db.get(JobLease, "contended")
        assert lease is not None and lease.holder == f"host:{won.index(True)}"


class NoDatabase:
    def __getattr__(self, name: str) -> None:
        raise AssertionError(f"the database was asked ({name})")


def test_a_process_that_saw_the_lease_taken_waits_for_its_expiry_without_asking(
        sessions: sessionmaker[Session]) -> None:
    now = datetime.now(UTC)
    with unit_of_work(sessions) as db:
        assert take_job_lease(db, "purge", "elsewhere:1", now, timedelta(minutes=5))
    runs: list[datetime] = []
    guarded = exclusive("purge", lambda db, at: runs.append(at), timedelta(minutes=5))
    with unit_of_work(sessions) as db:
        guarded(db, now + timedelta(minutes=1))
    guarded(cast(Session, NoDatabase()), now + timedelta(minutes=4))
    with unit_of_work(sessions) as db:
        guarded(db, now + timedelta(minutes=5, seconds=1))
    assert runs == [now + timedelta(minutes=5, seconds=1)]


def test_the_upload_sweep_waits_for_a_sweep_in_progress_elsewhere(
        sessions: sessionmaker[Session], keys_dir: Path) -> None:
    """`portal documents sweep` and the start-up sweep take the background sweep's lease."""
    vault = Vault(LocalKeyFileProvider(keys_dir / "keyring.json", create=False))
    now = datetime.now(UTC)
    with unit_of_work(sessions) as db:
        assert take_job_lease(db, "upload-sweep", "other-host:7", now, SWEEP_LEASE)
    assert sweep(sessions, vault, now + timedelta(minutes=1)) is None
    assert sweep(sessions, vault, now + SWEEP_LEASE) == 0
    assert sweep(sessions, vault, now + SWEEP_LEASE) == 0, "a finished sweep frees the lease"
