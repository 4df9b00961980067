"""A worker killed while it holds outbox leases: another sends its mail, once, after they expire.

Real processes on PostgreSQL. The first worker's SMTP server accepts the
connection and never answers, so the worker sits in ``send`` holding its
claims when it is killed (SIGKILL: no clean-up of any kind). A second worker,
with a working SMTP server, must leave the claimed mail alone until the
leases run out and then send every message exactly once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from portal.app import create_app
from portal.db import make_engine, session_factory, unit_of_work
from portal.mail.catcher import MailCatcher
from portal.mail.models import OutboxMessage
from portal.mail.service import enqueue
from portal.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 5
LEASE_SECONDS = "3"


def worker(url: str, data_dir: Path, smtp_port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.job_worker", url, str(data_dir), str(smtp_port),
         LEASE_SECONDS], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "READY"
    return process


def wait_for(url: str, condition: Callable[[int, int], bool]) -> None:
    """Poll (claimed, sent) counts of the test's messages until ``condition`` holds."""
    engine = make_engine(url)
    deadline = time.monotonic() + 60
    try:
        while True:
            with session_factory(engine)() as db:
                test = OutboxMessage.kind == "test"
                claimed = db.scalar(select(func.count()).where(
                    test, OutboxMessage.lease_holder.is_not(None))) or 0
                sent = db.scalar(select(func.count()).where(
                    test, OutboxMessage.sent_at.is_not(None))) or 0
            if condition(claimed, sent):
                return
            assert time.monotonic() < deadline, (claimed, sent)
            time.sleep(0.05)  # polling for an outcome, with a deadline
    finally:
        engine.dispose()


def test_mail_held_by_a_killed_worker_is_sent_once_by_another(
        postgres_url: str, keys_dir: Path) -> None:
    black_hole = socket.socket()
    black_hole.bind(("127.0.0.1", 0))
    black_hole.listen(16)  # connections complete in the backlog; no greeting, ever
    catcher = MailCatcher().start()
    create_app(Settings(mode="dev", database_url=postgres_url, data_dir=keys_dir,
                        smtp_host="127.0.0.1", smtp_port=catcher.port)).state.portal.close()
    engine = make_engine(postgres_url)
    with unit_of_work(session_factory(engine)) as db:
        for n in range(MESSAGES):
            enqueue(db, datetime.now(UTC), kind="test", recipient=f"r{n}@example.test",
                    subject=f"bericht {n}", body="-")
    engine.dispose()
    stuck = worker(postgres_url, keys_dir, black_hole.getsockname()[1])
    try:
        wait_for(postgres_url, lambda claimed, sent: claimed == MESSAGES)
        stuck.send_signal(signal.SIGKILL)
        stuck.wait(timeout=10)
        rescuer = worker(postgres_url, keys_dir, catcher.port)
        try:
            wait_for(postgres_url, lambda claimed, sent: sent == MESSAGES)
        finally:
            assert rescuer.stdin is not None
            rescuer.stdin.close()
            rescuer.wait(timeout=30)
            assert rescuer.stdout is not None
            rescuer.stdout.close()
    finally:
        for pipe in (stuck.stdin, stuck.stdout):
            if pipe is not None:
                pipe.close()
        black_hole.close()
        catcher.stop()
    received = Counter(m.subject for m in catcher.snapshot())
    assert received == Counter({f"bericht {n}": 1 for n in range(MESSAGES)})
    engine = make_engine(postgres_url)
    with session_factory(engine)() as db:
        attempts = db.scalars(select(OutboxMessage.attempts)
                              .where(OutboxMessage.kind == "test")).all()
    engine.dispose()
    assert attempts == [2] * MESSAGES, "claimed by the killed worker, then by the rescuer"
