"""One portal process for the exactly-once test: ``python -m tests.jobs.job_worker``.

Builds the real portal (its background thread runs the jobs and delivers the
outbox through the SMTP server given) and prints ``READY``; when its stdin
closes it stops the way a worker does on shutdown, finishing the round in hand.
Optional fourth and fifth arguments shorten the outbox lease and the jobs'
period (seconds; empty for the default).
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from portal.app import create_app
from portal.jobs import schedule
from portal.mail import service
from portal.settings import Settings


def main(database_url: str, data_dir: str, smtp_port: str, lease_seconds: str = "",
         job_period_seconds: str = "") -> None:
    if lease_seconds:  # a short outbox lease, so a test sees one expire
        service.LEASE = timedelta(seconds=float(lease_seconds))
    if job_period_seconds:  # jobs due again at once, so every round races for them
        period = timedelta(seconds=float(job_period_seconds))
        schedule.REMINDERS_EVERY = schedule.PURGE_EVERY = schedule.SWEEP_EVERY = period
    settings = Settings(mode="dev", database_url=database_url, data_dir=Path(data_dir),
                        smtp_host="127.0.0.1", smtp_port=int(smtp_port),
                        jobs_interval_seconds=0.05)
    portal = create_app(settings).state.portal
    print("READY", flush=True)
    sys.stdin.read()
    portal.close()


if __name__ == "__main__":
    main(*sys.argv[1:6])
