"""Delivering sealed checkpoints to a witness outside the database (C2SP tlog-witness).

A checkpoint copy that a database administrator cannot reach is what makes a
rewritten history visible (docs/architecture.md, "The access log against its
database owner"). Each checkpoint goes, oldest first, as an ``add-checkpoint``
request with an RFC 6962 consistency proof from the size the witness last
cosigned; the witness answers with its cosignature, which is stored and is the
only thing that counts as "delivered": it verifies with the witness's key
(``PORTAL_AUDIT_WITNESS_VKEY``), so a row the database owner writes does not.

Exactly one process delivers at a time: an in-process lock, then a lease row
(``audit_witness_lease``) taken with a conditional UPDATE, which PostgreSQL
serialises on the row lock and SQLite on its single writer; the lease is
renewed before each request and released after the round. Reads and the HTTP
call never share a transaction, so a slow or dead witness holds no database
lock. A failure is logged, counted on the checkpoint's ``audit_witness_delivery``
row and shown to the DPO; a witness that refuses our history (409 for a size
it has seen with another root, 422 for a proof that does not verify, or a size
larger than the database knows) raises the integrity alarm.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.audit import health
from portal.audit.anchors import Memory, NotExtended, consistency_proof
from portal.audit.checkpoint import CheckpointError, open_checkpoint_any, parse_checkpoint
from portal.audit.cosignature import open_cosignature, parse_cosigner_vkey
from portal.audit.ledger import CONFIG_KEY, AuditConfig, on_sealed
from portal.audit.models import AuditCheckpoint, WitnessCosignature, WitnessDelivery, WitnessLease
from portal.audit.sealer import Sealer
from portal.db import unit_of_work
from portal.mail.worker import RoundWorker
from portal.settings import Settings

log = logging.getLogger("portal.audit.witness")

BATCH = 100
TIMEOUT = 10.0
LEASE = timedelta(seconds=60)  # well above one request's TIMEOUT; renewed before each
MEDIA_TYPE = "text/plain; charset=utf-8"
SIZE_TYPE = "text/x.tlog.size"
HOLDER = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
_in_process = threading.Lock()
_LEASE_LOST = "lease lost"


@dataclass(frozen=True)
class WitnessTarget:
    """The witness's submission prefix and cosigner key (name, public key)."""

    url: str
    key: tuple[str, Ed25519PublicKey]
    token: str = ""


@dataclass(frozen=True)
class WitnessStatus:
    """What the DPO sees: how far behind the witness is and why."""

    url: str
    backlog: int
    last_error: str | None
    last_attempt_at: datetime | None


def _text(note: str) -> str:
    return note.partition("\n\n")[0] + "\n"


def cosigned_size(db: Session, key: tuple[str, Ed25519PublicKey] | None) -> int:
    """The largest checkpoint size with a cosignature that verifies with the witness's key."""
    if key is None:
        return 0
    rows = db.execute(select(WitnessCosignature.size, WitnessCosignature.line,
                             AuditCheckpoint.note)
                      .join(AuditCheckpoint, AuditCheckpoint.size == WitnessCosignature.size)
                      .order_by(WitnessCosignature.size.desc()).limit(BATCH)).all()
    for size, line, note in rows:
        try:
            open_cosignature(_text(note), line, *key)
        except CheckpointError:
            continue
        return int(size)
    return 0


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


def _renew(sessions: sessionmaker[Session]) -> bool:
    """Take or extend the delivery lease; False when another process holds it."""
    now = datetime.now(UTC)  # wall time: the lease is between processes, not in the domain
    with unit_of_work(sessions) as db:
        taken = db.execute(
            update(WitnessLease)
            .where(WitnessLease.id == 1,
                   or_(WitnessLease.holder.is_(None), WitnessLease.holder == HOLDER,
                       WitnessLease.expires_at < now))
            .values(holder=HOLDER, expires_at=now + LEASE)
            .execution_options(synchronize_session=False))
        return bool(getattr(taken, "rowcount", 0) == 1)


def _release(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as db:
        db.execute(update(WitnessLease)
                   .where(WitnessLease.id == 1, WitnessLease.holder == HOLDER)
                   .values(holder=None, expires_at=None)
                   .execution_options(synchronize_session=False))


@contextlib.contextmanager
def _claim(sessions: sessionmaker[Session]) -> Iterator[bool]:
    with _in_process:
        if not _renew(sessions):
            yield False
            return
        try:
            yield True
        finally:
            _release(sessions)


def _request_body(old: int, proof: list[bytes], note: str) -> bytes:
    lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode()


@dataclass
class _Round:
    sessions: sessionmaker[Session]
    target: WitnessTarget
    clock: Callable[[], datetime]
    http: requests.Session
    memory: Memory | None = None
    delivered: int = 0

    def fail(self, size: int, error: str, alarm: str | None = None) -> None:
        with unit_of_work(self.sessions) as db:
            _mark(db, size, self.clock(), error)
            if alarm is not None:
                health.alarm(db, self.clock(), "witness", alarm)
        log.error("checkpoint %d not delivered to the witness: %s", size, error)

    def post(self, old: int, size: int, note: str) -> requests.Response | str:
        try:
            with unit_of_work(self.sessions) as db:
                proof = consistency_proof(db, old, size)
        except NotExtended as exc:
            return f"no consistency proof from {old}: {exc}"
        if not _renew(self.sessions):  # after the proof, which may read many records
            return _LEASE_LOST
        headers = {"Content-Type": MEDIA_TYPE}
        if self.target.token:
            headers["Authorization"] = f"Bearer {self.target.token}"
        try:
            return self.http.post(f"{self.target.url.rstrip('/')}/add-checkpoint",
                                  data=_request_body(old, proof, note), headers=headers,
                                  timeout=TIMEOUT)
        except requests.RequestException as exc:
            return type(exc).__name__

    def deliver(self, old: int, size: int, note: str, newest: int) -> int | None:
        """Send one checkpoint; the witness's size afterwards, or None to stop the round."""
        for _ in range(2):  # a second try after the witness told us its size (409)
            answer = self.post(old, size, note)
            if answer is _LEASE_LOST:
                return None  # another process delivers from here
            if isinstance(answer, str):
                self.fail(size, answer)
                return None
            if answer.status_code == 200:
                return self.accept(size, note, answer.text)
            if answer.status_code == 409 and answer.headers.get(
                    "Content-Type", "").startswith(SIZE_TYPE):
                theirs = _size(answer.text)
                if theirs is None or theirs == old or theirs > newest:
                    self.fail(size, "HTTP 409", alarm=(
                        f"the witness has cosigned {theirs} records of this log, which the "
                        f"database does not extend (checkpoint for {size} records refused)"))
                    return None
                if theirs > size:
                    return theirs  # it has seen this one already; go on from there
                old = theirs
                continue
            if answer.status_code == 422:
                self.fail(size, "HTTP 422", alarm=(
                    f"the witness refused the checkpoint for {size} records: the database "
                    f"does not extend the {old} records it cosigned"))
                return None
            self.fail(size, f"HTTP {answer.status_code}")
            return None
        self.fail(size, "HTTP 409")
        return None

    def accept(self, size: int, note: str, lines: str) -> int | None:
        name, key = self.target.key
        try:
            cosignature = open_cosignature(_text(note), lines, name, key)
        except CheckpointError as exc:
            self.fail(size, f"bad cosignature: {exc}")
            return None
        if self.memory is not None:
            with contextlib.suppress(CheckpointError):
                self.memory.remember_witnessed(parse_checkpoint(_text(note)))
        now = self.clock()
        with unit_of_work(self.sessions) as db:
            row = db.get(WitnessCosignature, size)
            if row is None:
                db.add(WitnessCosignature(size=size, witness=name, line=cosignature.line,
                                          received_at=now))
            else:
                row.line, row.witness, row.received_at = cosignature.line, name, now
            _mark(db, size, now, None)
        health.resolve("witness")
        self.delivered += 1
        return size


def fetch_latest(target: WitnessTarget, origin: str,
                 keys: list[tuple[str, Ed25519PublicKey]]) -> str | None:
    """The witness's latest cosigned checkpoint of this log (None when it has none yet).

    Raises CheckpointError when the answer is not signed by the log's key and
    cosigned by the witness's, and requests.RequestException when unreachable.
    """
    response = requests.get(f"{target.url.rstrip('/')}/latest", params={"origin": origin},
                            timeout=TIMEOUT)
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise CheckpointError(f"the witness answered HTTP {response.status_code}")
    note = response.text
    open_checkpoint_any(note, keys, origin=origin)
    open_cosignature(_text(note), note.partition("\n\n")[2], *target.key)
    return note


def _seed_memory(target: WitnessTarget, config: AuditConfig) -> None:
    """Ask the witness what it cosigned last, so sealing in this process has an anchor
    outside the database from the start (a failure here is the delivery's to report)."""
    with contextlib.suppress(requests.RequestException, CheckpointError):
        note = fetch_latest(target, config.origin, config.trusted())
        if note is not None:
            config.memory.remember_witnessed(parse_checkpoint(_text(note)))


def _size(text: str) -> int | None:
    stripped = text.strip()
    return int(stripped) if stripped.isdigit() and len(stripped) < 21 else None


def push_pending(sessions: sessionmaker[Session], target: WitnessTarget,
                 clock: Callable[[], datetime], http: requests.Session | None = None) -> int:
    """Deliver the backlog in order; stops at the first failure. Returns how many the
    witness cosigned. Returns 0 at once while another process holds the lease."""
    client = http or requests.Session()
    config = (sessions.kw.get("info") or {}).get(CONFIG_KEY)
    config = config if isinstance(config, AuditConfig) else None
    work = _Round(sessions, target, clock, client, config.memory if config else None)
    try:
        with _claim(sessions) as held:
            if not held:
                return 0
            if config is not None and config.memory.witnessed is None:
                _seed_memory(target, config)
            with unit_of_work(sessions) as db:
                old = cosigned_size(db, target.key)
            while True:
                with unit_of_work(sessions) as db:
                    newest = db.scalar(select(func.max(AuditCheckpoint.size))) or 0
                    batch = db.execute(select(AuditCheckpoint.size, AuditCheckpoint.note)
                                       .where(AuditCheckpoint.size > old)
                                       .order_by(AuditCheckpoint.size).limit(BATCH)).all()
                if not batch:
                    return work.delivered
                for size, note in batch:
                    if size <= old:
                        continue
                    reached = work.deliver(old, size, note, newest)
                    if reached is None:
                        return work.delivered
                    old = reached
    finally:
        if http is None:
            client.close()


def status(db: Session, url: str, vkey: str = "") -> WitnessStatus | None:
    """The witness's backlog for the DPO's page; None when no witness is configured."""
    if not url:
        return None
    config = db.info.get(CONFIG_KEY)
    # Without a vkey, the witness key the portal's sessions were configured with.
    key = config.witness if isinstance(config, AuditConfig) else None
    if vkey:
        try:
            key = parse_cosigner_vkey(vkey)
        except ValueError:
            key = None
    cosigned = cosigned_size(db, key)
    backlog = db.scalar(select(func.count()).select_from(AuditCheckpoint)
                        .where(AuditCheckpoint.size > cosigned))
    last = db.execute(select(WitnessDelivery.last_error, WitnessDelivery.last_attempt_at)
                      .where(WitnessDelivery.size > cosigned,
                             WitnessDelivery.last_error.is_not(None))
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


class AuditWorkers:
    """The access log's background work in this process: the quiet-timer sealer and,
    when a witness is configured, the pusher. ``stop()`` seals what is pending."""

    def __init__(self, sealer: Sealer | None, pusher: WitnessPusher | None) -> None:
        self.sealer = sealer
        self.pusher = pusher

    def poke(self) -> None:
        if self.pusher is not None:
            self.pusher.poke()

    def stop(self) -> None:
        if self.sealer is not None:
            self.sealer.stop()
        if self.pusher is not None:
            self.pusher.stop()


def start_for(sessions: sessionmaker[Session], settings: Settings,
              clock: Callable[[], datetime]) -> AuditWorkers | None:
    """Start the sealer (when checkpoints are signed) and the witness pusher (when
    ``PORTAL_AUDIT_CHECKPOINT_URL`` is set); None when neither applies."""
    config = (sessions.kw.get("info") or {}).get(CONFIG_KEY)
    sealer = Sealer(sessions, config, clock) if isinstance(config, AuditConfig) else None
    pusher = None
    if settings.audit_checkpoint_url and settings.audit_witness_vkey:
        target = WitnessTarget(settings.audit_checkpoint_url,
                               parse_cosigner_vkey(settings.audit_witness_vkey),
                               settings.audit_checkpoint_token)
        pusher = WitnessPusher(sessions, target, clock)
        on_sealed(sessions, pusher.poke)
        pusher.start()
        pusher.poke()  # a backlog left by an earlier run goes out at start-up
    if sealer is not None:
        sealer.start()
    if sealer is None and pusher is None:
        return None
    return AuditWorkers(sealer, pusher)
