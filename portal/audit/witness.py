"""Sending sealed checkpoints to a witness outside the database (HTTP POST).

A checkpoint copy that a database administrator cannot reach is what makes a
rewritten history visible (docs/architecture.md, "Audit"). Delivery never sits
in a request's path: one background thread per process posts the backlog
(checkpoints without a delivered ``audit_witness_delivery`` row) oldest first,
woken when a checkpoint commits and every ``interval`` seconds. Reads and the
HTTP call never share a transaction, so a slow or dead witness cannot hold a
database lock; a failure is logged, counted on the checkpoint's row and shown
to the DPO, and the next round tries again from the same checkpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import requests
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, sessionmaker

from portal.audit.ledger import on_sealed
from portal.audit.models import AuditCheckpoint, WitnessDelivery
from portal.db import unit_of_work
from portal.mail.worker import RoundWorker
from portal.settings import Settings

log = logging.getLogger("portal.audit.witness")

BATCH = 100
TIMEOUT = 10.0
MEDIA_TYPE = "text/plain; charset=utf-8"  # a C2SP signed note is plain text


@dataclass(frozen=True)
class WitnessTarget:
    url: str
    token: str = ""


@dataclass(frozen=True)
class WitnessStatus:
    """What the DPO sees: how far behind the witness is and why."""

    url: str
    backlog: int
    last_error: str | None
    last_attempt_at: datetime | None


def _undelivered() -> ColumnElement[bool]:
    delivered = select(WitnessDelivery.size).where(WitnessDelivery.delivered_at.is_not(None))
    return AuditCheckpoint.size.not_in(delivered)


def _post(target: WitnessTarget, http: requests.Session, note: str) -> str | None:
    """None when the witness accepted the note, else a short reason (no secrets)."""
    headers = {"Content-Type": MEDIA_TYPE}
    if target.token:
        headers["Authorization"] = f"Bearer {target.token}"
    try:
        response = http.post(target.url, data=note.encode(), headers=headers, timeout=TIMEOUT)
    except requests.RequestException as exc:
        return type(exc).__name__
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}"


def _mark(db: Session, size: int, now: datetime, error: str | None) -> None:
    row = db.get(WitnessDelivery, size)
    if row is None:
        row = WitnessDelivery(size=size, attempts=0)
        db.add(row)
    row.attempts += 1
    row.last_attempt_at = now
    row.last_error = error[:200] if error else None
    if error is None:
        row.delivered_at = now
    db.flush()


def push_pending(sessions: sessionmaker[Session], target: WitnessTarget,
                 clock: Callable[[], datetime], http: requests.Session | None = None) -> int:
    """Post the backlog in order; stops at the first failure. Returns how many were delivered."""
    client = http or requests.Session()
    delivered = 0
    try:
        while True:
            with unit_of_work(sessions) as db:
                batch = db.execute(select(AuditCheckpoint.size, AuditCheckpoint.note)
                                   .where(_undelivered()).order_by(AuditCheckpoint.size)
                                   .limit(BATCH)).all()
            if not batch:
                return delivered
            for size, note in batch:
                error = _post(target, client, note)
                with unit_of_work(sessions) as db:
                    _mark(db, size, clock(), error)
                if error is not None:
                    log.error("checkpoint %d not delivered to the witness: %s", size, error)
                    return delivered
                delivered += 1
    finally:
        if http is None:
            client.close()


def status(db: Session, url: str) -> WitnessStatus | None:
    """The witness's backlog for the DPO's page; None when no witness is configured."""
    if not url:
        return None
    backlog = db.scalar(select(func.count()).select_from(AuditCheckpoint)
                        .where(_undelivered()))
    last = db.execute(select(WitnessDelivery.last_error, WitnessDelivery.last_attempt_at)
                      .where(WitnessDelivery.delivered_at.is_(None))
                      .order_by(WitnessDelivery.last_attempt_at.desc()).limit(1)).first()
    return WitnessStatus(url=url, backlog=int(backlog or 0),
                         last_error=last[0] if last else None,
                         last_attempt_at=last[1] if last else None)


class WitnessPusher(RoundWorker):
    """One background thread per process; ``poke()`` after a checkpoint commits."""

    def __init__(self, sessions: sessionmaker[Session], target: WitnessTarget,
                 clock: Callable[[], datetime], interval: float = 30.0) -> None:
        self._http = requests.Session()
        super().__init__("audit-witness",
                         lambda: push_pending(sessions, target, clock, self._http),
                         interval, stop_timeout=TIMEOUT + 5)

    def stop(self) -> None:
        super().stop()
        self._http.close()


def start_for(sessions: sessionmaker[Session], settings: Settings,
              clock: Callable[[], datetime]) -> WitnessPusher | None:
    """The running pusher for ``PORTAL_AUDIT_CHECKPOINT_URL``, or None when unset."""
    if not settings.audit_checkpoint_url:
        return None
    pusher = WitnessPusher(sessions, WitnessTarget(settings.audit_checkpoint_url,
                                                   settings.audit_checkpoint_token), clock)
    on_sealed(sessions, pusher.poke)
    pusher.start()
    pusher.poke()  # a backlog left by an earlier run goes out at start-up
    return pusher
