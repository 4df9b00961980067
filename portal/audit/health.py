"""Alarms about the access log's integrity, and what ``/readyz`` reports about it.

An alarm (the log no longer extends a checkpoint that left the database, a
split view, a witness that refuses our history) is loud: an ERROR log line,
a content-free mail to every DPO through the outbox, and an entry in
:func:`problems` until a later seal succeeds. Mail goes once per kind of alarm
per process and day, so a refused seal retried every interval does not
flood the DPO's mailbox (the log line and the problem carry the details).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.anchors import NotExtended, newest_file
from portal.audit.models import AuditChainHead, AuditCheckpoint
from portal.mail.service import enqueue
from portal.people.models import Membership, Person, Role
from portal.settings import Settings

log = logging.getLogger("portal.audit.health")

DPO_SUBJECT = "MDO-portaal: controle van het toegangslogboek mislukt"
DPO_BODY = ("Het MDO-portaal heeft een probleem met de integriteit van het toegangslogboek "
            "gevonden en zet er geen handtekening meer onder tot het is opgelost. "
            "Voer `portal audit verify` uit of vraag de beheerder om dat te doen; de "
            "uitkomst noemt het eerste record dat ontbreekt of is gewijzigd.\n")
MAIL_AGAIN_AFTER = timedelta(days=1)

_lock = threading.Lock()
_active: dict[str, str] = {}  # kind -> message, until resolved
_mailed: dict[str, datetime] = {}


def alarm(db: Session | None, now: datetime, kind: str, message: str) -> None:
    """Raise the alarm ``kind`` (e.g. "seal", "split-view", "witness"); mail the DPOs
    through ``db``'s outbox when given (it is sent only if that transaction commits)."""
    log.error("ACCESS LOG INTEGRITY: %s", message)
    with _lock:
        _active[kind] = message
        last = _mailed.get(kind)
        if db is None or (last is not None and now - last < MAIL_AGAIN_AFTER):
            return
        _mailed[kind] = now
    emails = db.scalars(select(Person.email).join(Membership, Membership.person_id == Person.id)
                        .where(Membership.role == Role.DPO, Person.active.is_(True),
                               Person.email.is_not(None)).distinct()).all()
    for email in emails:
        enqueue(db, now, kind="audit.integrity", recipient=str(email), subject=DPO_SUBJECT,
                body=DPO_BODY)


def resolve(kind: str) -> None:
    with _lock:
        _active.pop(kind, None)


def reset() -> None:
    """Forget every alarm of this process (tests; a restart does the same)."""
    with _lock:
        _active.clear()
        _mailed.clear()


def active() -> list[str]:
    with _lock:
        return list(_active.values())


def _external_checks(db: Session, settings: Settings) -> list[str]:
    """Cheap checks any process can make: the newest checkpoint file against the database."""
    if not settings.audit_checkpoint_dir or not settings.audit_signing_key:
        return []
    from portal.audit import keys as audit_keys

    try:
        trusted = audit_keys.trusted_keys(
            settings.effective_audit_origin,
            audit_keys.load_signing_key(settings.audit_signing_key),
            settings.audit_verifier_keys)
        anchor = newest_file(Path(settings.audit_checkpoint_dir), trusted,
                             settings.effective_audit_origin)
    except (NotExtended, ValueError) as exc:
        return [f"access log: {exc}"]
    if anchor is None:
        return []
    size = anchor.checkpoint.size
    head_seq = db.scalar(select(AuditChainHead.seq))
    if head_seq is not None and head_seq < size:
        return [f"access log: {anchor.label} covers {size} records but the database holds "
                f"{head_seq}: record {head_seq + 1} onwards is missing"]
    root = db.scalar(select(AuditCheckpoint.root).where(AuditCheckpoint.size == size))
    if root is None:
        return [f"access log: the database has lost the checkpoint for {size} records that "
                "the checkpoint directory holds"]
    if bytes(root) != anchor.checkpoint.root:
        return [f"access log: the database's checkpoint for {size} records differs from "
                f"{anchor.label} (a split view)"]
    return []


def problems(db: Session, settings: Settings) -> list[str]:
    """What keeps the access log from being trustworthy now; empty when all is well.

    Meant for ``/readyz``: no record content, no secrets, and cheap (no replay).
    """
    return [*(f"access log: {message}" for message in active()), *_external_checks(db, settings)]
