"""``portal documents migrate-storage``: move segment rows out of the database into the store.

Files stored before migration 0036 keep their ciphertext as
``document_segment`` rows (and stay readable so). This copies each such
version's ciphertext -- byte for byte, no key needed, nothing decrypted --
into one object of the configured blob store, then switches the version in
one transaction: the version points at the object and its rows are deleted.
A crash anywhere leaves every version either wholly on rows or wholly in the
store; running it again finishes the job. An object written but not switched
to (crash, or the version was erased meanwhile) was queued in ``blob_garbage``
before it was written and is deleted by the purge job after ``INTENT_GRACE``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.db import unit_of_work
from portal.documents.blobs import BlobStore, BlobStores, new_blob_name
from portal.documents.garbage import queue_object
from portal.documents.models import BlobGarbage, DocumentSegment, DocumentVersion, VersionStatus
from portal.documents.storage import ciphertext

log = logging.getLogger("portal.documents.blobs")

# An unfinished copy's object is left alone this long (a migration still running).
INTENT_GRACE = timedelta(hours=6)


@dataclass
class MigrationReport:
    moved: int = 0
    bytes: int = 0
    skipped: int = 0  # erased or changed while being copied: left as they are
    remaining: int = 0


def migrate_storage(sessions: sessionmaker[Session], blobs: BlobStores,
                    clock: Callable[[], datetime], *, limit: int | None = None,
                    progress: Callable[[MigrationReport], None] | None = None
                    ) -> MigrationReport:
    """Move every version still on rows into ``blobs.target``; safe to run again."""
    store = blobs.target
    if store is None:
        raise ValueError("PORTAL_BLOB_STORE is 'database': there is no store to move to")
    report = MigrationReport()
    after = ""
    while limit is None or report.moved + report.skipped < limit:
        with unit_of_work(sessions) as db:
            row = db.execute(
                select(DocumentVersion.id, DocumentVersion.segment_count)
                .where(DocumentVersion.blob_store.is_(None), DocumentVersion.id > after,
                       DocumentVersion.status == VersionStatus.COMPLETE,
                       DocumentVersion.segment_count > 0)
                .order_by(DocumentVersion.id).limit(1)).first()
        if row is None:
            break
        after = row.id
        moved = _move(sessions, blobs, store, row.id, clock)
        if moved is None:
            report.skipped += 1
        else:
            report.moved += 1
            report.bytes += moved
        if progress is not None:
            progress(report)
    with unit_of_work(sessions) as db:
        report.remaining = db.scalar(
            select(func.count()).select_from(DocumentVersion)
            .where(DocumentVersion.blob_store.is_(None),
                   DocumentVersion.status == VersionStatus.COMPLETE,
                   DocumentVersion.segment_count > 0)) or 0
    return report


def _move(sessions: sessionmaker[Session], blobs: BlobStores, store: BlobStore,
          version_id: str, clock: Callable[[], datetime]) -> int | None:
    """Copy one version's rows into a new object and switch to it; its size, or None."""
    name = new_blob_name()
    now = clock()
    with unit_of_work(sessions) as db:  # the intent first: a crash never strands the object
        intent = queue_object(db, store.kind, name, now, not_before=now + INTENT_GRACE).id
    copied = [0, 0]  # bytes, rows

    def rows() -> Iterator[bytes]:
        for data in ciphertext(sessions, blobs, version_id, None, None):
            copied[0] += len(data)
            copied[1] += 1
            yield data

    size = store.write(name, rows())
    with unit_of_work(sessions) as db:
        version = db.get(DocumentVersion, version_id, with_for_update=True)
        # Switch only what was copied: the same version, still on rows, same row count.
        if version is None or version.blob_store is not None \
                or version.segment_count != copied[1] or size != copied[0]:
            db.execute(update(BlobGarbage).where(BlobGarbage.id == intent)
                       .values(not_before=clock()))
            log.warning("version %s changed while it was copied; left as it was", version_id)
            return None
        version.blob_store, version.blob_name = store.kind, name
        db.execute(delete(DocumentSegment).where(DocumentSegment.version_id == version_id))
        taken = db.execute(delete(BlobGarbage).where(BlobGarbage.id == intent))
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            # The purge already took the object (a copy slower than INTENT_GRACE).
            raise RuntimeError("copy took longer than its grace; run again")
        db.flush()
    return size
