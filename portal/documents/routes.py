"""Documents pages (attachments, uploaded minutes and the older free-text minutes):
identify, call one service, render or stream. New minutes are structured, written
per meeting (:mod:`portal.minutes`); free text is only revised here, no longer created.

No SQL and no role checks here. A download is decided, recorded and its key
unwrapped inside the request's transaction, which commits before the first
byte is sent; the decrypted segments then stream in constant memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from portal.consent.anonymous import IdentifiersFound
from portal.consent.identifiers import Finding
from portal.documents import erasure, minutes, reading, upload
from portal.documents.blobs import BlobMissing
from portal.documents.models import CATEGORIES
from portal.documents.reading import ContentDamaged, DocumentGone, Download, NotAFile
from portal.documents.storage import ciphertext, plaintext
from portal.errors import InvalidInput
from portal.web.endpoint import Page, endpoint


def _error(page: Page, status: int) -> Response:
    return page.render("errors/error.html", status=status, status_code=status,
                       csrf_failed=False)


def _findings(invalid: InvalidInput) -> dict[str, list[Finding]]:
    """What the identifier check found (anonymous cases), for the confirm box."""
    return invalid.findings if isinstance(invalid, IdentifiersFound) else {}


@endpoint(upload=True)
def upload_document(page: Page, case_id: str) -> Response:
    portal = page.portal
    settings = portal.settings
    try:
        upload.upload_document(page.db, portal.sessions, portal.vault, page.requester(),
                               page.user, page.now, case_id, page.form, page.upload,
                               settings.max_upload_bytes, commit=page.commit,
                               clock=portal.clock, blobs=portal.blobs)
    except upload.UploadRejected as rejected:
        return page.render("documents/upload.html", status=rejected.status, case_id=case_id,
                           categories=CATEGORIES, errors=rejected.errors,
                           values=dict(page.form), max_upload_mb=settings.max_upload_mb)
    return page.redirect(f"/cases/{case_id}/documents")


@endpoint()
def show_document(page: Page, case_id: str, document_id: str) -> Response:
    return _document_page(page, case_id, document_id, errors={}, values={})


def _document_page(page: Page, case_id: str, document_id: str, errors: dict[str, str],
                   values: dict[str, str],
                   findings: dict[str, list[Finding]] | None = None) -> Response:
    raw = page.request.query_params.get("version", "")
    try:
        doc = reading.view_document(page.db, page.portal.vault, page.requester(), page.user,
                                    page.now, case_id, document_id,
                                    int(raw) if raw.isdigit() else None)
    except ContentDamaged:
        return _error(page, 500)
    except (InvalidInput, DocumentGone):
        return _error(page, 404)
    return page.render("documents/show.html", status=400 if errors else 200, doc=doc,
                       errors=errors, values=values, findings=findings or {})


@endpoint()
def revise_minutes(page: Page, case_id: str, document_id: str) -> Response:
    try:
        minutes.revise_minutes(page.db, page.portal.vault, page.requester(), page.user,
                               page.now, case_id, document_id, page.form.get("title", ""),
                               page.form.get("text", ""),
                               confirm_identifiers=page.form.get("confirm_identifiers") == "on")
    except InvalidInput as invalid:
        return _document_page(page, case_id, document_id, invalid.errors, dict(page.form),
                              _findings(invalid))
    return page.redirect(f"/cases/{case_id}/documents/{document_id}")


@endpoint()
def download_document(page: Page, case_id: str, document_id: str) -> Response:
    try:
        download = reading.open_download(page.db, page.portal.vault, page.requester(),
                                         page.user, page.now, case_id, document_id)
    except ContentDamaged:
        return _error(page, 500)
    except (NotAFile, DocumentGone):
        return _error(page, 404)
    portal, who = page.portal, page.requester()

    def failed(reason: str) -> None:
        reading.record_download_failure(portal.sessions, who, portal.clock(), download,
                                        reason=reason)

    try:
        # An object is opened before anything is sent: missing → refused and on
        # record like damaged ciphertext; store down → OSError → 503.
        source = ciphertext(portal.sessions, portal.blobs, download.version_id,
                            download.blob_store, download.blob_name)
    except BlobMissing:
        reading.record_download_failure(portal.sessions, who, page.now, download, db=page.db)
        return _error(page, 500)
    body: Iterator[bytes] = plaintext(source, download.dek,
                                      download.associated_data, failed, size=download.size,
                                      segments=download.segments)
    return StreamingResponse(body, media_type=download.media_type,
                             headers=_attachment_headers(download))


def _attachment_headers(download: Download) -> dict[str, str]:
    """Never rendered inline, never sniffed, never cached, sandboxed if opened anyway."""
    fallback = download.filename.encode("ascii", "replace").decode("ascii")
    fallback = fallback.replace("?", "_").replace('"', "_").replace("\\", "_")
    return {
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; "
                               f"filename*=UTF-8''{quote(download.filename, safe='')}",
        # Checked against the authenticated end of the stream before the last piece
        # is sent: a stream cut short or extended can never look complete.
        "Content-Length": str(download.size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Cache-Control": "no-store",
    }


@endpoint()
def erase_document(page: Page, case_id: str, document_id: str) -> Response:
    try:
        erasure.erase_document(page.db, page.portal.vault, page.requester(), page.user,
                               page.now, case_id, document_id,
                               confirmed=page.form.get("confirm") == "on")
    except InvalidInput:
        return _error(page, 400)
    return page.redirect(f"/cases/{case_id}/documents")


@endpoint()
def erase_case_documents(page: Page, case_id: str) -> Response:
    try:
        erasure.erase_case_documents(page.db, page.portal.vault, page.requester(), page.user,
                                     page.now, case_id,
                                     confirmed=page.form.get("confirm") == "on")
    except InvalidInput:
        return _error(page, 400)
    return page.redirect(f"/cases/{case_id}/documents")


# Starlette's own limit would answer an oversized upload with a bare text/plain
# 413 of its own (it replaces the page even when the endpoint refused first),
# so the upload route lifts it; ``endpoint(upload=True)`` enforces
# PORTAL_MAX_UPLOAD_MB itself, on the declared length and while streaming.
_NO_STARLETTE_LIMIT = 2**62

routes = [
    Route("/cases/{case_id}/documents", upload_document, methods=["POST"],
          max_body_size=_NO_STARLETTE_LIMIT),
    Route("/cases/{case_id}/documents/{document_id}", show_document),
    Route("/cases/{case_id}/documents/{document_id}/versions", revise_minutes,
          methods=["POST"]),
    Route("/cases/{case_id}/documents/{document_id}/download", download_document),
    Route("/cases/{case_id}/documents/{document_id}/erase", erase_document,
          methods=["POST"]),
    Route("/cases/{case_id}/erasure", erase_case_documents, methods=["POST"]),
]
