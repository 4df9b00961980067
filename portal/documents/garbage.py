"""Deleting blob store objects once their versions are gone: after the key, never before.

Erasure, a refused upload, the sweep and a migration queue the objects they
abandon in ``blob_garbage`` inside their own transaction (erasure: the one
that destroys the data key, so the content is unreadable from that commit
on). ``purge_blobs`` -- a background job poked after every form post, and
``portal documents sweep`` -- deletes them; a delete that fails (store down)
stays queued and is retried, and is visible in the log and the metrics.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from portal.documents.blobs import BlobMissing, BlobStores
from portal.documents.models import BlobGarbage, DocumentVersion

log = logging.getLogger("portal.documents.blobs")

PURGE_BATCH = 200
# Failed deletes are retried, but no faster than this.
RETRY_AFTER = timedelta(minutes=5)


def queue_objects(db: Session, versions: Iterable[DocumentVersion], now: datetime) -> int:
    """Queue the objects of ``versions`` (those in a blob store) for deletion."""
    queued = 0
    for version in versions:
        if version.blob_store is not None and version.blob_name is not None:
            queue_object(db, version.blob_store, version.blob_name, now)
            queued += 1
    return queued


def queue_object(db: Session, store: str, name: str, now: datetime,
                 not_before: datetime | None = None) -> BlobGarbage:
    garbage = BlobGarbage(store=store, name=name, queued_at=now,
                          not_before=not_before or now, attempts=0)
    db.add(garbage)
    db.flush()
    return garbage


def purge_blobs(db: Session, blobs: BlobStores, now: datetime) -> int:
    """Delete queued objects that are due; returns how many went."""
    due = db.execute(select(BlobGarbage.id, BlobGarbage.store, BlobGarbage.name)
                     .where(BlobGarbage.not_before <= now)
                     .order_by(BlobGarbage.not_before).limit(PURGE_BATCH)).all()
    done: list[str] = []
    failed: list[str] = []
    for row in due:
        still_used = db.scalar(select(DocumentVersion.id).where(
            DocumentVersion.blob_store == row.store, DocumentVersion.blob_name == row.name))
        try:
            if still_used is None:
                blobs.get(row.store).delete(row.name)
        except (OSError, BlobMissing) as exc:
            failed.append(row.id)
            log.warning("could not delete an object of %s store (will retry): %s",
                        row.store, exc)
            continue
        done.append(row.id)
    if done:
        db.execute(delete(BlobGarbage).where(BlobGarbage.id.in_(done))
                   .execution_options(synchronize_session=False))
    if failed:
        db.execute(update(BlobGarbage).where(BlobGarbage.id.in_(failed))
                   .values(attempts=BlobGarbage.attempts + 1, not_before=now + RETRY_AFTER)
                   .execution_options(synchronize_session=False))
    db.flush()
    return len(done)


def sweep_temporary(blobs: BlobStores) -> int:
    """Temporary files of writes that died, in every reachable store."""
    swept = 0
    for kind in blobs.kinds():
        try:
            swept += blobs.get(kind).sweep_temporary()
        except OSError as exc:
            log.warning("could not sweep temporary objects of %s store: %s", kind, exc)
    return swept
