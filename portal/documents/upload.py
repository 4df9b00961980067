"""Uploading a file (an attachment, or minutes made elsewhere), streamed and encrypted.

An upload runs in three phases, so that a slow uploader never holds the
database (or the audit chain's head) while its bytes trickle in:

1. In the request's transaction: decide, write the access record, create the
   document with a *pending* version and its wrapped data key, then commit.
   The decision is on record before any byte of the file is stored.
2. While the file arrives it is checked (name and content), counted against
   the limit and encrypted segment by segment into one object of the blob
   store (``portal.documents.blobs``; its random name was recorded on the
   pending version in phase 1, so a crash never strands it), which becomes
   visible only whole. With ``PORTAL_BLOB_STORE=database`` every batch of
   segments is instead inserted in a short transaction of its own, which
   also touches the version's heartbeat; while bytes keep arriving the heartbeat also moves
   at least every ``HEARTBEAT`` (a tiny UPDATE of its own), so a slow but live
   upload never looks dead to the sweep. No transaction is open while the
   client is read.
3. The request's (new) transaction marks the version complete: the only way
   a version becomes visible.

A refused, oversized or broken-off upload deletes what phase 1 and 2 wrote --
segments, version, document and data key -- in one transaction with a
``failed`` access record (an object is queued for deletion: ``garbage``). A
store that is down fails the upload closed (503) with nothing kept. A crash
in between leaves a pending version that nobody sees; ``sweep_pending`` (at
start-up and ``portal documents sweep``) deletes it and destroys its key once
its heartbeat is older than the grace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from portal.audit.service import Requester
from portal.db import unit_of_work
from portal.documents.blobs import BlobStores, new_blob_name
from portal.documents.filetypes import ContentCheck, FileRejected, sanitise_filename, type_for
from portal.documents.garbage import queue_objects
from portal.documents.models import (
    CATEGORIES,
    CaseDocument,
    DocumentKind,
    DocumentSegment,
    DocumentVersion,
    VersionStatus,
)
from portal.documents.service import (
    authorize_case,
    chosen_categories,
    record_failure,
    start_version,
    version_field,
)
from portal.documents.storage import (
    SEGMENT_SIZE,
    SegmentRows,
    insert_segments,
    store_object,
    store_segments,
)
from portal.errors import N_, InvalidInput
from portal.policy import Action, Actor, CaseFacts, ItemFacts
from portal.vault.service import Vault, secure_delete
from portal.web.uploads import FilePart, UploadError

log = logging.getLogger("portal.documents")

# Segment rows per upload transaction: 2 MiB of ciphertext, a few ms of lock.
UPLOAD_BATCH = 32
# A pending version whose heartbeat is older than this belongs to an upload
# that died (a stalled client is cut off after PORTAL_UPLOAD_STALL_SECONDS).
SWEEP_GRACE = timedelta(minutes=10)
# While bytes arrive the heartbeat moves at least this often, even inside a
# batch: an upload trickling under a batch per grace must not look dead.
HEARTBEAT = timedelta(seconds=60)

MESSAGES = {
    "type_not_allowed": N_("Only PDF, DOCX, XLSX, ODT, ODS, PNG, JPEG and TXT files can be "
                           "uploaded."),
    "content_mismatch": N_("The file's content does not match its extension."),
    "markup": N_("Web pages and SVG images cannot be uploaded, not even renamed."),
    "not_text": N_("A .txt file must contain plain UTF-8 text."),
    "empty": N_("The file is empty."),
    "too_large": N_("The file is larger than the upload limit."),
    "cancelled": N_("The upload was interrupted."),
    "malformed": N_("The upload could not be read."),
    "zip": N_("The document is damaged or unsafe (for example a zip bomb)."),
}


class FileTooLarge(Exception):
    code = "too_large"


class UploadRejected(InvalidInput):
    """The upload was refused and nothing of it stored; ``status`` is the HTTP status."""

    def __init__(self, status: int, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.status = status


def _message(code: str) -> str:
    return MESSAGES["zip"] if code.startswith("zip") else MESSAGES.get(code,
                                                                         MESSAGES["malformed"])


@dataclass(frozen=True)
class _Pending:
    """What phase 2 and 3 need of the rows phase 1 committed."""

    facts: CaseFacts
    kind: str
    document_id: str
    version_id: str
    key_id: str


def upload_document(db: Session, sessions: sessionmaker[Session], vault: Vault,
                    who: Requester, actor: Actor, now: datetime, case_id: str,
                    fields: Mapping[str, str], upload: FilePart | None, max_bytes: int, *,
                    commit: Callable[[], None], clock: Callable[[], datetime],
                    blobs: BlobStores | None = None) -> str:
    """Store an uploaded file as a new document of the case; returns its id.

    ``commit`` ends the request's transaction after phase 1 (the boundary
    hands it in: only it may commit); ``sessions`` gives phase 2 and the
    clean-up their own short transactions.
    """
    kind = DocumentKind.MINUTES if fields.get("kind") == "minutes" else DocumentKind.ATTACHMENT
    categories = chosen_categories(fields)
    facts = authorize_case(db, who, actor, now, Action.ITEM_WRITE, case_id,
                           item=ItemFacts(item_type=kind.value, item_id="",
                                          categories=frozenset(categories)),
                           event_type="document.upload", action_code="create")
    errors: dict[str, str] = {}
    if not categories:
        errors["categories"] = N_("Choose at least one data category.")
    filename = sanitise_filename(upload.filename) if upload is not None else ""
    file_type = type_for(filename)
    if upload is None or not upload.filename.strip():
        errors["file"] = N_("Choose a file to upload.")
    elif file_type is None:
        errors["file"] = MESSAGES["type_not_allowed"]
    if errors or upload is None or file_type is None:
        record_failure(db, who, now, facts, None, kind.value, event_type="document.upload",
                       action_code="create", reason="invalid_form")
        raise UploadRejected(400, errors)

    document = CaseDocument(case_id=facts.case_id, kind=kind,
                            categories=",".join(c for c in CATEGORIES if c in categories),
                            created_at=now, created_by=actor.person_id)
    db.add(document)
    db.flush()
    version, key = start_version(db, vault, document, 1, actor.person_id, now)
    version.filename_ct = vault.seal(
        key, filename, version_field(facts.case_id, document, version, "filename"))
    version.touched_at = now
    store = blobs.target if blobs is not None else None
    if store is not None:
        version.blob_store, version.blob_name = store.kind, new_blob_name()
    db.flush()
    pending = _Pending(facts=facts, kind=kind.value, document_id=document.id,
                       version_id=version.id, key_id=key.id)
    commit()  # phase 1 is durable; nothing is locked while the file arrives

    check = ContentCheck(file_type)
    counted = [0]
    touched = [now]

    def beat(tx: Session) -> None:
        touched[0] = clock()
        tx.execute(update(DocumentVersion).where(DocumentVersion.id == pending.version_id)
                   .values(touched_at=touched[0]))

    def checked() -> Iterator[bytes]:
        for chunk in upload.chunks():
            counted[0] += len(chunk)
            if counted[0] > max_bytes:
                raise FileTooLarge
            check.feed(chunk)
            if clock() - touched[0] >= HEARTBEAT:
                with unit_of_work(sessions) as tx:  # a tiny UPDATE, its own transaction
                    beat(tx)
            yield chunk
        check.finish()

    def write(rows: SegmentRows) -> None:
        with unit_of_work(sessions) as tx:
            insert_segments(tx, rows)
            beat(tx)

    ad = version_field(facts.case_id, document, version, "content").encode()
    try:
        if store is not None and version.blob_name is not None:
            segments = store_object(store, version.blob_name, key.dek, ad, checked())
        else:
            segments = store_segments(version.id, key.dek, ad, checked(), write,
                                      batch=UPLOAD_BATCH)
        # The provider must still hold the KEK this upload's key is wrapped
        # under: a file stored while the HSM went away could not be read back
        # until it returns, and writes are refused while it is away.
        with unit_of_work(sessions) as tx:
            vault.key_by_id(tx, pending.key_id)
    except (FileTooLarge, FileRejected, UploadError) as failed:
        code = failed.code
        _discard(sessions, vault, who, clock(), pending, reason=code)
        log.info("upload refused: %s", code)
        raise UploadRejected(413 if code == "too_large" else 400,
                             {"file": _message(code)}) from None
    except BaseException:
        # Database or key provider gone mid-stream: take back what we can
        # (deleting needs no key; the sweep finishes the job otherwise),
        # then fail closed (503).
        try:
            _discard(sessions, vault, who, clock(), pending, reason="failed")
        except Exception:
            log.exception("could not take back a failed upload; the sweep will")
        raise
    completed = db.execute(
        update(DocumentVersion)
        .where(DocumentVersion.id == pending.version_id,
               DocumentVersion.status == VersionStatus.PENDING)
        .values(status=VersionStatus.COMPLETE, segment_size=SEGMENT_SIZE,
                segment_count=segments, size=counted[0], touched_at=clock())
        .execution_options(synchronize_session=False))
    if completed.rowcount != 1:  # type: ignore[attr-defined]
        # Erased or swept while it streamed: its key is gone, so is the upload.
        raise UploadRejected(400, {"file": MESSAGES["cancelled"]})
    db.flush()
    return document.id


def _discard(sessions: sessionmaker[Session], vault: Vault, who: Requester, now: datetime,
             pending: _Pending, *, reason: str) -> None:
    """Take back a refused upload: its rows and data key go, a ``failed`` record stays."""
    with unit_of_work(sessions) as db:
        _delete_pending(db, vault, [pending.version_id], now)
        record_failure(db, who, now, pending.facts, None, pending.kind,
                       event_type="document.upload", action_code="create", reason=reason)


def _delete_pending(db: Session, vault: Vault, version_ids: list[str], now: datetime) -> int:
    """Delete pending versions, their segments, their keys, and documents left empty."""
    rows = db.scalars(select(DocumentVersion)
                      .where(DocumentVersion.id.in_(version_ids),
                             DocumentVersion.status == VersionStatus.PENDING)).all()
    if not rows:
        return 0
    ids = [r.id for r in rows]
    secure_delete(db)
    db.execute(delete(DocumentSegment).where(DocumentSegment.version_id.in_(ids)))
    queue_objects(db, rows, now)
    db.execute(delete(DocumentVersion).where(DocumentVersion.id.in_(ids))
               .execution_options(synchronize_session=False))
    vault.destroy(db, [r.data_key_id for r in rows])
    documents = {r.document_id for r in rows}
    kept = set(db.scalars(select(DocumentVersion.document_id)
                          .where(DocumentVersion.document_id.in_(documents))))
    db.execute(delete(CaseDocument).where(CaseDocument.id.in_(documents - kept))
               .execution_options(synchronize_session=False))
    db.flush()
    return len(ids)


def sweep_pending(db: Session, vault: Vault, now: datetime,
                  grace: timedelta = SWEEP_GRACE) -> int:
    """Delete pending versions of uploads that died (crash, kill), keys included.

    Only versions whose heartbeat is older than ``grace`` are touched, so a
    sweep on one worker never cuts off another worker's upload in flight.
    Returns how many versions went.
    """
    heartbeat = func.coalesce(DocumentVersion.touched_at, DocumentVersion.created_at)
    stale = list(db.scalars(select(DocumentVersion.id)
                            .where(DocumentVersion.status == VersionStatus.PENDING,
                                   heartbeat < now - grace)))
    swept = _delete_pending(db, vault, stale, now) if stale else 0
    if swept:
        log.warning("swept %d pending upload version(s) and destroyed their keys", swept)
    return swept
