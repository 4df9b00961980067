"""Which KEK versions may still wrap: the state retire and every wrap agree on.

Retiring a KEK version races with requests that wrapped a new data key under
it a moment before: counting "no data key under version N" and destroying N
must not let such a key commit in between (it could never be unwrapped).
The protocol:

* Every wrap, in the transaction that stores the wrapped key, takes its
  version's ``kek_version_state`` row in shared mode (PostgreSQL ``FOR
  SHARE``; on SQLite the row's upsert takes the database's write lock) and
  holds it to commit. A version found ``disabled`` or ``retired`` is not
  used: the key is wrapped again under the current version.
* ``disable`` sets the row to ``disabled`` in a transaction of its own. Its
  UPDATE waits for every transaction holding the row, i.e. every wrap in
  flight under that version; once it has committed, no new wrap can use the
  version. Only then does ``retire`` count the data keys still under it, and
  destroy it in the key provider only if there are none.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.vault.models import KekState, KekVersionState


def _ensure(db: Session, version: int) -> None:
    dialect = db.get_bind().dialect.name
    values = {"version": version, "state": KekState.ACTIVE.value}
    if dialect == "postgresql":
        db.execute(postgresql.insert(KekVersionState).values(**values)
                   .on_conflict_do_nothing(index_elements=["version"]))
    else:
        db.execute(sqlite.insert(KekVersionState).values(**values)
                   .on_conflict_do_nothing(index_elements=["version"]))


def hold(db: Session, version: int) -> bool:
    """Take ``version``'s row in shared mode until commit; True if it may wrap."""
    _ensure(db, version)
    state = db.scalar(select(KekVersionState.state).where(KekVersionState.version == version)
                      .with_for_update(read=True))
    return state == KekState.ACTIVE.value


def disable(db: Session, version: int, now: datetime) -> None:
    """No new wraps under ``version`` once the caller's transaction has committed.

    The UPDATE waits for every transaction that holds the row (a wrap in
    flight under ``version``), so after the commit each such key is counted.
    """
    _ensure(db, version)
    db.execute(update(KekVersionState)
               .where(KekVersionState.version == version,
                      KekVersionState.state == KekState.ACTIVE.value)
               .values(state=KekState.DISABLED.value, disabled_at=now))


def mark_retired(db: Session, version: int, now: datetime) -> None:
    _ensure(db, version)
    db.execute(update(KekVersionState).where(KekVersionState.version == version)
               .values(state=KekState.RETIRED.value, retired_at=now))


def states(db: Session) -> dict[int, KekVersionState]:
    return {row.version: row for row in db.scalars(select(KekVersionState))}
