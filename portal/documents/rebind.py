"""Re-seal document versions stored before binding 2 with their categories bound too.

Existing versions (``binding`` 1) were sealed with location-only associated
data, so their categories column is not yet protected. ``rebind_versions``
opens each with that binding and seals it again under the same data key with
binding 2: titles, texts and file names as records, file contents as a new
Tink stream (fresh salt) replacing the segment rows, all in one transaction
per version. It trusts the categories the column holds *now*: run it right
after ``portal db upgrade`` (``portal keys rebind``). A version that does not
open is skipped and reported, never re-sealed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from crypto import DecryptionError, decrypt_stream_exact
from portal.db import unit_of_work
from portal.documents.blobs import BlobMissing, BlobStores, new_blob_name
from portal.documents.garbage import queue_object
from portal.documents.models import CaseDocument, DocumentSegment, DocumentVersion, VersionStatus
from portal.documents.service import version_field, version_key
from portal.documents.storage import SEGMENT_SIZE, insert_segments, store_object, store_segments
from portal.vault.service import LOCATION_ONLY, WITH_ACCESS_FACTS, Vault


def rebind_versions(sessions: sessionmaker[Session], vault: Vault,
                    skipped: list[str] | None = None, blobs: BlobStores | None = None) -> int:
    """Re-seal every complete binding-1 version; returns how many. Safe to run again.

    A version that does not open (damaged, or its categories already edited)
    is left as it is and its document id appended to ``skipped``: it stays
    unreadable-if-tampered only as far as binding 1 reaches, and needs a look.
    """
    done = 0
    after = ""
    document_id = ""
    while True:
        try:
            with unit_of_work(sessions) as db:
                row = db.execute(
                    select(DocumentVersion, CaseDocument)
                    .join(CaseDocument, CaseDocument.id == DocumentVersion.document_id)
                    .where(DocumentVersion.binding == LOCATION_ONLY,
                           DocumentVersion.status == VersionStatus.COMPLETE,
                           DocumentVersion.id > after)
                    .order_by(DocumentVersion.id).limit(1)).first()
                if row is None:
                    return done
                after, document_id = row[0].id, row[1].id
                _rebind(db, vault, *row, blobs=blobs)
            done += 1
        except (DecryptionError, BlobMissing):
            if skipped is not None:
                skipped.append(document_id)


def _rebind(db: Session, vault: Vault, version: DocumentVersion, document: CaseDocument,
            target: int = WITH_ACCESS_FACTS, *, blobs: BlobStores | None = None) -> None:
    """Open ``version`` with its binding and seal it again with ``target``'s.

    The whole file is held in memory for the swap (at most
    ``PORTAL_MAX_UPLOAD_MB``); ``DecryptionError`` if it does not open."""
    key = version_key(db, vault, version)
    case_id = document.case_id
    opened = {name: vault.open(db, blob, version_field(case_id, document, version, name), key)
              for name, blob in (("title", version.title_ct), ("text", version.text_ct),
                                 ("filename", version.filename_ct)) if blob is not None}
    old_ad = version_field(case_id, document, version, "content").encode()
    in_store = version.blob_store is not None and version.blob_name is not None
    if in_store and blobs is None:
        raise BlobMissing(version.id)  # no store to read it from: skipped
    if not version.segment_count:
        segments: list[bytes] = []
    elif in_store and blobs is not None and version.blob_store and version.blob_name:
        segments = list(blobs.get(version.blob_store).open(version.blob_name))
    else:
        segments = [data for (data,) in db.execute(
            select(DocumentSegment.data).where(DocumentSegment.version_id == version.id)
            .order_by(DocumentSegment.idx))]
    version.binding = target
    for name, text in opened.items():
        setattr(version, f"{name}_ct",
                vault.seal(key, text, version_field(case_id, document, version, name)))
    if segments:
        plain = list(decrypt_stream_exact(key.dek, old_ad, segments, size=version.size,
                                          segments=version.segment_count,
                                          segment_size=SEGMENT_SIZE))
        new_ad = version_field(case_id, document, version, "content").encode()
        if in_store and blobs is not None and version.blob_store and version.blob_name:
            # A new object under a new name; the old one goes after this commit.
            store = blobs.get(version.blob_store)
            old, name = version.blob_name, new_blob_name()
            store_object(store, name, key.dek, new_ad, plain)
            version.blob_name = name
            queue_object(db, store.kind, old, datetime.now(UTC))
        else:
            db.execute(delete(DocumentSegment).where(DocumentSegment.version_id == version.id))
            db.flush()
            store_segments(version.id, key.dek, new_ad, plain,
                           lambda rows: insert_segments(db, rows))
    db.flush()
