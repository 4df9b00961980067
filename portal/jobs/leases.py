"""Leases: each piece of background work is handled by one process, exactly once.

Two kinds, both on the shared database, so they hold across workers and hosts:

- a *job lease* (``job_lease`` row) for a job that runs as a whole: the session
  purge, the upload sweep, the reminder round;
- *row leases* for queues whose items are handled one by one with slow outside
  work in between (the mail outbox): rows are claimed with ``SELECT ... FOR
  UPDATE SKIP LOCKED`` on PostgreSQL and stamped with a holder and an expiry in
  a short transaction, then worked on with no transaction open.

Either claim is a compare-and-set ``UPDATE ... WHERE`` the lease is free or
expired, checked by its row count, so it is also safe on SQLite, where the
database's single writer serialises the claims. A process that dies holding a
lease blocks nobody for longer than the lease: once it expires, another
process takes the work over.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from portal.jobs.models import JobLease

Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")
Job = Callable[[Session, datetime], object]
_holder: tuple[int, str] | None = None


def process_holder() -> str:
    """This process, as a lease holder: host, pid and a nonce in case a pid is reused.

    Computed per pid, so workers forked from one parent are different holders."""
    global _holder
    if _holder is None or _holder[0] != os.getpid():
        nonce = uuid.uuid4().hex[:8]
        _holder = os.getpid(), f"{socket.gethostname()[:40]}:{os.getpid()}:{nonce}"
    return _holder[1]


def exclusive(name: str, job: Job, period: timedelta) -> Job:
    """``job`` run by one process of all, at most once per ``period``.

    The lease is taken in the job's own transaction: on PostgreSQL the lease
    row stays locked until the job commits (another process waits, then finds
    the lease taken), and a job that fails rolls its lease back with it. Until
    a lease it saw expires, this process does not ask the database again: the
    dispatcher runs after every write request, the jobs far less often."""
    next_check: datetime | None = None

    def run(db: Session, now: datetime) -> object:
        nonlocal next_check
        if next_check is not None and now < next_check:
            return None
        if not take_job_lease(db, name, process_holder(), now, period):
            lease = db.get(JobLease, name)
            next_check = lease.expires_at if lease is not None else None
            return None
        result = job(db, now)
        next_check = now + period
        return result

    return run


def take_job_lease(db: Session, name: str, holder: str, now: datetime,
                   ttl: timedelta) -> bool:
    """Hold the job lease ``name`` until ``now + ttl``; False while it is held (by anyone)."""
    taken = db.execute(update(JobLease).where(JobLease.name == name, JobLease.expires_at <= now)
                       .values(holder=holder, expires_at=now + ttl)
                       .execution_options(synchronize_session=False))
    if _rowcount(taken) == 1:
        return True
    if db.get(JobLease, name) is not None:
        return False
    try:
        with db.begin_nested():
            db.execute(insert(JobLease).values(name=name, holder=holder,
                                               expires_at=now + ttl))
    except IntegrityError:  # another process created it a moment ago: theirs
        return False
    return True


def release_job_lease(db: Session, name: str, holder: str, now: datetime) -> None:
    """Let the next round (of any process) run the job at once."""
    db.execute(update(JobLease).where(JobLease.name == name, JobLease.holder == holder)
               .values(expires_at=now).execution_options(synchronize_session=False))


def lock_free_rows(db: Session, query: Q, of: Any = None) -> Q:
    """``query`` locking its rows (of ``of``) and skipping those another transaction holds.

    That is PostgreSQL; SQLite has one writer and transactions that take the
    write lock up front, so there nothing else can be holding the rows."""
    if db.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True, of=of)
    return query


def claim_rows(db: Session, id_column: InstrumentedAttribute[str],
               holder_column: InstrumentedAttribute[str | None],
               until_column: InstrumentedAttribute[datetime | None],
               candidates: Select[Any], holder: str, now: datetime,
               ttl: timedelta) -> list[str]:
    """Claim the rows ``candidates`` selects (ids) whose lease is free or expired.

    Returns the ids this holder now holds until ``now + ttl``; commit before
    working on them so other processes see the claim."""
    free: ColumnElement[bool] = or_(until_column.is_(None), until_column <= now)
    ids: Sequence[str] = db.scalars(lock_free_rows(db, candidates.where(free))).all()
    claimed = []
    for row_id in ids:
        result = db.execute(update(id_column.class_).where(id_column == row_id, free)
                            .values({holder_column: holder, until_column: now + ttl})
                            .execution_options(synchronize_session=False))
        if _rowcount(result) == 1:
            claimed.append(row_id)
    return claimed


def _rowcount(result: Any) -> int:
    return int(result.rowcount)
