"""Uploading a file (an attachment, or minutes made elsewhere), streamed and encrypted.

The decision and its access record come first. The file is then checked
(name and content), counted against the limit and encrypted segment by
segment while it arrives, all in the request's transaction. A refused,
oversized or broken-off upload deletes what it wrote so far -- segments,
version, document and data key, none of it ever committed -- and a
``failed`` access record says why; a crash rolls the whole transaction
back. Either way no partial file becomes visible and no key is left behind.
(Not a savepoint: rolling one back resets the audit chain's cached head.)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from portal.audit.service import Requester
from portal.documents.filetypes import ContentCheck, FileRejected, sanitise_filename, type_for
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
)
from portal.documents.storage import SEGMENT_SIZE, store_segments
from portal.errors import N_, InvalidInput
from portal.policy import Action, Actor, ItemFacts
from portal.vault.service import Vault, document_field
from portal.web.uploads import FilePart, UploadError

log = logging.getLogger("portal.documents")

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


def upload_document(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                    case_id: str, fields: Mapping[str, str], upload: FilePart | None,
                    max_bytes: int) -> str:
    """Store an uploaded file as a new document of the case; returns its id."""
    kind = DocumentKind.MINUTES if fields.get("kind") == "minutes" else DocumentKind.ATTACHMENT
    categories = chosen_categories(fields)
    facts = authorize_case(db, who, actor, now, Action.ITEM_WRITE, case_id,
                           item=ItemFacts(item_type=kind.value, item_id="",
                                          categories=frozenset(categories)),
                           event_type="document.upload", action_code="create")

    def refuse(status: int, code: str, errors: dict[str, str]) -> UploadRejected:
        record_failure(db, who, now, facts, None, kind.value, event_type="document.upload",
                       action_code="create", reason=code)
        log.info("upload refused: %s", code)
        return UploadRejected(status, errors)

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
        raise refuse(400, "invalid_form", errors)

    document = CaseDocument(case_id=facts.case_id, kind=kind,
                            categories=",".join(c for c in CATEGORIES if c in categories),
                            created_at=now, created_by=actor.person_id)
    db.add(document)
    db.flush()
    version, key = start_version(db, vault, document, 1, actor.person_id, now)
    version.filename_ct = vault.seal(
        key, filename, document_field(facts.case_id, kind.value, document.id, 1, "filename"))
    check = ContentCheck(file_type)
    counted = [0]

    def checked() -> Iterator[bytes]:
        for chunk in upload.chunks():
            counted[0] += len(chunk)
            if counted[0] > max_bytes:
                raise FileTooLarge
            check.feed(chunk)
            yield chunk
        check.finish()

    ad = document_field(facts.case_id, kind.value, document.id, 1, "content").encode()
    try:
        version.segment_count = store_segments(db, version.id, key.dek, ad, checked())
    except (FileTooLarge, FileRejected, UploadError) as failed:
        _discard(db, vault, document, version)
        code = failed.code
        status = 413 if code == "too_large" else 400
        raise refuse(status, code, {"file": _message(code)}) from None
    version.segment_size = SEGMENT_SIZE
    version.size = counted[0]
    # Marked complete only now: the only way a version becomes visible.
    version.status = VersionStatus.COMPLETE
    db.flush()
    return document.id


def _discard(db: Session, vault: Vault, document: CaseDocument,
             version: DocumentVersion) -> None:
    """Take back a refused upload's rows, data key included, before anything commits."""
    db.execute(delete(DocumentSegment).where(DocumentSegment.version_id == version.id))
    key_id = version.data_key_id
    db.delete(version)
    db.flush()
    vault.destroy(db, [key_id])
    db.delete(document)
    db.flush()
