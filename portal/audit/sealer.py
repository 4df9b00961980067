"""Sealing on a quiet timer and at shutdown, so the unprovable tail stays short.

Appends seal when ``every`` records or ``interval`` have passed, but only when
a record arrives: after the last record of a quiet afternoon nothing would
seal it. The sealer looks every ``interval / 10`` (at most a minute) and seals
what has waited ``interval`` or longer; ``stop()`` seals whatever is pending
before the process exits. Several processes may each run one: sealing locks
the chain head, and a second seal over the same records finds nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from portal.audit import health
from portal.audit.anchors import NotExtended
from portal.audit.ledger import AuditConfig, seal
from portal.audit.models import AuditChainHead
from portal.db import unit_of_work
from portal.mail.worker import RoundWorker

log = logging.getLogger("portal.audit.sealer")


def seal_if_waiting(sessions: sessionmaker[Session], config: AuditConfig,
                    clock: Callable[[], datetime], *, force: bool = False) -> int | None:
    """Seal when records have waited ``interval`` (or at all, with ``force``); the new
    checkpoint's size, or None when nothing was sealed (or sealing was refused)."""
    now = clock()
    with unit_of_work(sessions) as db:
        row = db.execute(select(AuditChainHead.seq, AuditChainHead.checkpoint_size,
                                AuditChainHead.checkpoint_at)).first()
    if row is None or row.seq == row.checkpoint_size:
        return None
    waited = row.checkpoint_at is None or now - row.checkpoint_at >= config.interval
    if not (force or waited or row.seq - row.checkpoint_size >= config.every):
        return None
    try:
        with unit_of_work(sessions) as db:
            checkpoint = seal(db, config, now)
            return checkpoint.size if checkpoint is not None else None
    except NotExtended as refused:
        with unit_of_work(sessions) as db:
            health.alarm(db, now, "seal", str(refused))
        return None  # the next round tries again


class Sealer(RoundWorker):
    def __init__(self, sessions: sessionmaker[Session], config: AuditConfig,
                 clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._config = config
        self._clock = clock
        interval = min(max(config.interval.total_seconds() / 10, 1.0), 60.0)
        super().__init__("audit-sealer", lambda: seal_if_waiting(sessions, config, clock),
                         interval)

    def stop(self) -> None:
        super().stop()
        try:
            seal_if_waiting(self._sessions, self._config, self._clock, force=True)
        except Exception:  # shutting down: the pending tail is sealed at the next start
            log.exception("could not seal the access log at shutdown")
