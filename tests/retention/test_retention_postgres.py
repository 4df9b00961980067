"""Two workers run the retention job at once on PostgreSQL: each case is shredded once."""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.models import AccessRecord
from portal.cases.creation import NewCase, create_case_rows
from portal.cases.models import CaseRole, LegalBasis
from portal.demo import stable_id
from portal.jobs.leases import exclusive
from portal.jobs.schedule import RETENTION_EVERY
from portal.retention.job import run_retention
from portal.retention.models import CountedFrom, RetentionErasure
from portal.retention.rules import add_months
from tests.harness import Running
from tests.retention.helpers import SCHOOL, close, confirm, intact, shredded

pytestmark = pytest.mark.postgres
CASES = 8


def _cases(running: Running) -> tuple[list[str], datetime]:
    """``CASES`` closed school cases with a confirmed two-year period; returns when they expire."""
    now = running.clock.now
    ids = [str(uuid.uuid4()) for _ in range(CASES)]
    with running.portal.sessions() as db:
        for n, case_id in enumerate(ids):
            create_case_rows(db, running.portal.vault, now, case_id=case_id,
                             created_by=stable_id("person", "ib"), organisation_id=SCHOOL,
                             new=NewCase(child_id=None, anonymous=True, title=f"Casus {n}",
                                         purpose="Overleg", legal_basis=LegalBasis.CONSENT),
                             participants=[(stable_id("person", "ib"), CaseRole.CHAIR)])
            close(db, case_id, now)
        confirm(db, SCHOOL, 24, CountedFrom.CASE_CLOSED, now)
        db.commit()
    return ids, add_months(now, 24)


def _race(running: Running, work: Callable[[Session], object]) -> list[object]:
    """``work`` in two threads at once, each with its own session, committed."""
    barrier = threading.Barrier(2)
    results: list[object] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with running.portal.sessions() as db:
                barrier.wait(timeout=30)
                results.append(work(db))
                db.commit()
        except BaseException as error:  # reported by the test thread
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and len(results) == 2, errors
    return results


def _each_shredded_once(running: Running, ids: list[str]) -> None:
    with running.portal.sessions() as db:
        assert all(shredded(db, running.portal.vault, case_id) for case_id in ids)
        erasures = Counter(db.scalars(select(RetentionErasure.case_id)))
        assert erasures == Counter(dict.fromkeys(ids, 1))
        logged = Counter(db.scalars(select(AccessRecord.case_id).where(
            AccessRecord.event_type == "retention.erase")))
        assert logged == Counter(dict.fromkeys(ids, 1))
        assert intact(db, running.portal.vault, stable_id("case", "sam-mdo"))


def test_two_workers_without_the_lease_still_shred_each_case_once(
        postgres_url: str, start_portal: Callable[..., Running],
        caplog: pytest.LogCaptureFixture) -> None:
    running = start_portal(postgres_url)
    ids, expires = _cases(running)
    vault = running.portal.vault
    with caplog.at_level(logging.ERROR, logger="portal.retention.job"):
        counts = _race(running, lambda db: run_retention(db, vault, expires))
    # The claim on mdo_case.erased_at decided, not a failing duplicate insert.
    assert [r.getMessage() for r in caplog.records] == []
    assert sum(c for c in counts if isinstance(c, int)) == CASES
    _each_shredded_once(running, ids)


def test_two_workers_running_the_scheduled_job_shred_each_case_once(
        postgres_url: str, start_portal: Callable[..., Running]) -> None:
    running = start_portal(postgres_url)
    ids, expires = _cases(running)
    vault = running.portal.vault
    # Each process builds its own scheduled job, as portal.jobs.schedule does.
    jobs = iter([exclusive("retention", lambda db, now: run_retention(db, vault, now),
                           RETENTION_EVERY) for _ in range(2)])
    lock = threading.Lock()

    def run(db: Session) -> object:
        with lock:
            job = next(jobs)
        return job(db, expires)

    results = _race(running, run)
    assert sorted(results, key=repr) == sorted([CASES, None], key=repr), \
        "one worker held the lease and did the work; the other found it taken"
    _each_shredded_once(running, ids)
