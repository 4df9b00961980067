"""KEK rotation: re-wrap every data key under the newest KEK; retire old versions safely.

Only the ``data_key`` rows change (version and wrapped blob); every ciphertext
stays byte for byte as it was, because the data keys themselves do not
change. Work goes in batches, each its own transaction, in id order, and each
row is updated only if it still holds what was read (a concurrent erasure or
a second rotation simply wins). An interrupted run loses nothing: the rows
done are done, and ``rewrap(resume)`` continues with the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from crypto import CryptoError, KeyProvider, WrappedKey
from portal.db import unit_of_work
from portal.vault import kek_state
from portal.vault.models import DataKey

Progress = Callable[[int, int], None]


class RetireRefused(Exception):
    """Data keys still depend on the version; the message says how many."""


def pending(sessions: sessionmaker[Session], version: int) -> int:
    """How many data keys are not yet wrapped under ``version``."""
    with sessions() as db:
        return db.scalar(select(func.count()).select_from(DataKey)
                         .where(DataKey.kek_version != version)) or 0


def rewrap(sessions: sessionmaker[Session], provider: KeyProvider, *, batch_size: int = 500,
           progress: Progress | None = None) -> int:
    """Re-wrap every data key that is not under the current KEK version; returns how many.

    Raises ``CryptoError`` if the current version changes meanwhile (another
    rotation started): run again then.
    """
    target = provider.current_version()
    total = pending(sessions, target)
    done = 0
    after = ""
    if progress:
        progress(done, total)
    while True:
        with unit_of_work(sessions) as db:
            rows = db.execute(select(DataKey.id, DataKey.kek_version, DataKey.wrapped)
                              .where(DataKey.kek_version != target, DataKey.id > after)
                              .order_by(DataKey.id).limit(batch_size)).all()
            if rows and not kek_state.hold(db, target):
                raise CryptoError(f"KEK version {target} is disabled for wrapping")
            for key_id, version, blob in rows:
                fresh = provider.wrap(provider.unwrap(WrappedKey(version, blob)))
                if fresh.kek_version != target:
                    raise CryptoError("the current KEK version changed during the rotation; "
                                      "run it again")
                db.execute(update(DataKey)
                           .where(DataKey.id == key_id, DataKey.kek_version == version,
                                  DataKey.wrapped == blob)
                           .values(kek_version=fresh.kek_version, wrapped=fresh.blob))
        if not rows:
            return done
        after = rows[-1].id
        done += len(rows)
        if progress:
            progress(done, total)


def rotate(sessions: sessionmaker[Session], provider: KeyProvider, *, batch_size: int = 500,
           progress: Progress | None = None) -> tuple[int, int]:
    """Create a new KEK version and re-wrap every data key under it: (version, re-wrapped)."""
    version = provider.rotate()
    return version, rewrap(sessions, provider, batch_size=batch_size, progress=progress)


def retire(sessions: sessionmaker[Session], provider: KeyProvider, version: int,
           now: datetime | None = None) -> None:
    """Destroy KEK ``version`` safely, refused while any data key is still wrapped under it.

    First the version is disabled for wrapping (``kek_state.disable``: that
    commit waits for every wrap in flight under it), then the data keys
    under it are counted, and only with none left is it destroyed. A refused
    retire leaves the version disabled: nothing new is wrapped under it, and
    ``portal keys rotate --resume`` moves the rest.
    """
    now = now or datetime.now(UTC)
    if version == provider.current_version():
        raise RetireRefused(f"KEK version {version} is current; rotate first")
    if version not in provider.versions():
        raise RetireRefused(f"KEK version {version} is not in the key provider")
    with unit_of_work(sessions) as db:
        kek_state.disable(db, version, now)
    with sessions() as db:
        dependent = db.scalar(select(func.count()).select_from(DataKey)
                              .where(DataKey.kek_version == version)) or 0
    if dependent:
        raise RetireRefused(f"{dependent} data key(s) are still wrapped under KEK version "
                            f"{version}; finish the rotation first (portal keys rotate --resume)")
    provider.retire(version)
    with unit_of_work(sessions) as db:
        kek_state.mark_retired(db, version, now)
