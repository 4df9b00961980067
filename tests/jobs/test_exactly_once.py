"""Four portal processes on one database: each mail and each reminder goes out once.

Real processes, each with its own background thread, delivering through real
SMTP to one aiosmtpd server; the work is queued while all four are polling, so
they race for it. On PostgreSQL (row locks, SKIP LOCKED) and on SQLite (one
writer at a time).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from portal.app import create_app
from portal.db import make_engine, session_factory, unit_of_work
from portal.demo import DEMO_CASE, stable_id
from portal.mail.catcher import MailCatcher
from portal.mail.models import OutboxMessage
from portal.mail.service import enqueue
from portal.meetings.models import ActionItem, ActionItemStatus
from portal.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
MESSAGES = 40
REMINDERS = 6
# The reminder job is due again after this, instead of a minute: every round
# of every worker races for it, and the test needs no minute's wait.
JOB_PERIOD = "0.01"


def queue_work(url: str) -> None:
    """Mail to distinct recipients, and action items due tomorrow (one reminder each)."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    mentor, chair = stable_id("person", "mentor"), stable_id("person", "ib")
    with unit_of_work(session_factory(engine)) as db:
        for n in range(MESSAGES):
            enqueue(db, now, kind="test", recipient=f"r{n}@example.test",
                    subject=f"bericht {n}", body="Er staat iets voor u klaar.")
        for _ in range(REMINDERS):
            # Reminders never decrypt the text; it is sealed bytes as far as they know.
            db.add(ActionItem(case_id=stable_id("case", DEMO_CASE.key), owner_id=mentor,
                              text_ct=b"sealed", due_on=(now + timedelta(days=1)).date(),
                              status=ActionItemStatus.OPEN, created_by=chair,
                              created_at=now))
    engine.dispose()


def wait_until_sent(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    deadline = time.monotonic() + 90
    try:
        while True:
            with session_factory(engine)() as db:
                reminders = db.scalar(select(func.count()).where(
                    OutboxMessage.kind == "action_item.reminder")) or 0
                unsent = db.scalar(select(func.count()).where(
                    OutboxMessage.sent_at.is_(None))) or 0
            if reminders >= REMINDERS and unsent == 0:
                return reminders, unsent
            assert time.monotonic() < deadline, f"{unsent} unsent, {reminders} reminders"
            time.sleep(0.1)  # polling for an outcome, with a deadline
    finally:
        engine.dispose()


def test_four_processes_send_each_mail_and_each_reminder_once(
        database_url: str, keys_dir: Path) -> None:
    catcher = MailCatcher().start()
    # The dev secrets once, here: four processes must not race to create them.
    create_app(Settings(mode="dev", database_url=database_url, data_dir=keys_dir,
                        smtp_host="127.0.0.1", smtp_port=catcher.port)).state.portal.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.job_worker", database_url, str(keys_dir),
         str(catcher.port), "", JOB_PERIOD], cwd=ROOT, env=env, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True) for _ in range(WORKERS)]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "READY"
        queue_work(database_url)
        assert wait_until_sent(database_url) == (REMINDERS, 0)
    finally:
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.close()  # a clean stop: the round in hand finishes
        for worker in workers:
            worker.wait(timeout=30)
            assert worker.stdout is not None
            worker.stdout.close()
        catcher.stop()
    received = Counter(message.recipients for message in catcher.snapshot())
    assert {recipients: n for recipients, n in received.items() if n > 1
            and recipients != ("mentor@demo.mdo-portaal.test",)} == {}
    assert sum(n for r, n in received.items() if r != ("mentor@demo.mdo-portaal.test",)) \
        == MESSAGES
    assert received[("mentor@demo.mdo-portaal.test",)] == REMINDERS, "one reminder per item"
    engine = make_engine(database_url)
    with session_factory(engine)() as db:
        reminded = db.scalars(select(ActionItem.reminded_at)
                              .where(ActionItem.text_ct == b"sealed")).all()
        assert len(reminded) == REMINDERS and None not in reminded
        attempts = db.scalars(select(OutboxMessage.attempts)).all()
        assert set(attempts) == {1}, "no message was claimed twice"
    engine.dispose()
