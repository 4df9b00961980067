"""Key epochs: erased data keys become useless in every backup within a bound.

Destroying a data key row erases the data in the live database, but a backup
taken before the erasure still holds the key, wrapped under a KEK version
of its time, and can unwrap it as long as that KEK version exists. Only the
key provider can make that impossible: a KEK in an HSM (or a keyring file
kept out of the database backups) is not in the backup. So after an
erasure, within ``PORTAL_ERASURE_EPOCH_DAYS``, an *epoch* runs:

1. rotate to a new KEK version (unless a later one than every outstanding
   erasure's already exists: an interrupted epoch resumes),
2. re-wrap every living data key under it,
3. retire every older version safely (``rotation.retire``),
4. mark as cleared every erasure whose newest KEK version is gone.

Afterwards no backup taken before those erasures can unwrap the erased keys;
the living keys are in the live database, wrapped under the new version.
``run`` is idempotent: with nothing outstanding, or nothing due yet, it does
nothing, so it can run from cron every day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from crypto import KeyProvider
from portal.db import unit_of_work
from portal.vault import rotation
from portal.vault.models import DataKey, KeyShredding


@dataclass(frozen=True)
class Outstanding:
    """Erased, but a backup taken before ``oldest`` could still bring it back."""

    erasures: int
    keys: int
    oldest: datetime | None
    newest_kek_version: int
    # By this moment the epoch must have run (the oldest erasure + the bound).
    deadline: datetime | None

    def overdue(self, now: datetime) -> bool:
        return self.deadline is not None and now > self.deadline


@dataclass(frozen=True)
class ErasureDebt:
    erased_at: datetime
    keys: int
    recoverable_until: datetime


def outstanding(db: Session, epoch_days: int) -> Outstanding:
    count, keys, oldest, newest = db.execute(
        select(func.count(), func.coalesce(func.sum(KeyShredding.keys), 0),
               func.min(KeyShredding.erased_at),
               func.coalesce(func.max(KeyShredding.kek_version), 0))
        .where(KeyShredding.cleared_at.is_(None))).one()
    return Outstanding(erasures=count, keys=int(keys), oldest=oldest,
                       newest_kek_version=int(newest),
                       deadline=oldest + timedelta(days=epoch_days) if oldest else None)


def debts(db: Session, epoch_days: int) -> list[ErasureDebt]:
    """Each outstanding erasure, newest first, with the date by which the epoch ends it."""
    rows = db.scalars(select(KeyShredding).where(KeyShredding.cleared_at.is_(None))
                      .order_by(KeyShredding.erased_at.desc())).all()
    # One epoch clears them all: the one the oldest erasure makes due.
    deadline = outstanding(db, epoch_days).deadline
    return [ErasureDebt(erased_at=row.erased_at, keys=row.keys,
                        recoverable_until=deadline or row.erased_at) for row in rows]


def due(pending: Outstanding, now: datetime, epoch_days: int) -> bool:
    """Run a day before the bound, so a daily cron job always keeps it."""
    if pending.oldest is None:
        return False
    return now >= pending.oldest + timedelta(days=max(epoch_days - 1, 0))


@dataclass(frozen=True)
class EpochResult:
    ran: bool
    kek_version: int
    rewrapped: int = 0
    retired: tuple[int, ...] = ()
    cleared: int = 0
    pending: Outstanding | None = None


def run(sessions: sessionmaker[Session], provider: KeyProvider, now: datetime,
        epoch_days: int, *, force: bool = False,
        progress: rotation.Progress | None = None) -> EpochResult:
    """Run the epoch if an erasure is outstanding and due (or ``force``); idempotent."""
    with sessions() as db:
        pending = outstanding(db, epoch_days)
    if pending.erasures == 0 or not (force or due(pending, now, epoch_days)):
        return EpochResult(ran=False, kek_version=provider.current_version(),
                           pending=pending)
    if provider.current_version() <= pending.newest_kek_version:
        current, rewrapped = rotation.rotate(sessions, provider, progress=progress)
    else:  # an interrupted epoch already rotated: finish it
        current = provider.current_version()
        rewrapped = rotation.rewrap(sessions, provider, progress=progress)
    retired = []
    for version in provider.versions():
        if version < current:
            rotation.retire(sessions, provider, version, now)
            retired.append(version)
    oldest_alive = min(provider.versions())
    with unit_of_work(sessions) as db:
        cleared = db.execute(update(KeyShredding)
                             .where(KeyShredding.cleared_at.is_(None),
                                    KeyShredding.kek_version < oldest_alive)
                             .values(cleared_at=now)).rowcount  # type: ignore[attr-defined]
    with sessions() as db:
        left = outstanding(db, epoch_days)
    return EpochResult(ran=True, kek_version=current, rewrapped=rewrapped,
                       retired=tuple(retired), cleared=cleared, pending=left)


@dataclass(frozen=True)
class CarriedForward:
    carried: int  # living keys brought forward from the newer copy
    dead: int  # keys erased since the restored backup: they stay unwrappable


def carry_forward(source: sessionmaker[Session], target: sessionmaker[Session]) -> CarriedForward:
    """After restoring an old backup (``target``), bring its living keys forward.

    The restored rows are wrapped under KEK versions an epoch may have
    destroyed; ``source`` (the newest backup or the live database) holds the
    same keys wrapped under the current version, except those erased in
    between, which do not exist there and so stay dead.
    """
    with source() as src:
        current = {row.id: (row.kek_version, row.wrapped) for row in src.scalars(select(DataKey))}
    carried = dead = 0
    with unit_of_work(target) as db:
        for key in db.scalars(select(DataKey)).all():
            if key.id not in current:
                dead += 1
                continue
            version, blob = current[key.id]
            if (key.kek_version, key.wrapped) != (version, blob):
                key.kek_version, key.wrapped = version, blob
                carried += 1
    return CarriedForward(carried=carried, dead=dead)
