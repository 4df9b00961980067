"""A stored file cut short or extended: Chromium must report the download as failed.

On both storages: segment rows (files from before migration 0036) and an
object in the directory blob store (the default); the S3 store's objects are
attacked in ``tests/documents/test_blob_stores.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import StartPortal
from e2e.pages import log_in
from portal.documents.blobs import BlobStore
from portal.documents.models import DocumentSegment, DocumentVersion
from portal.documents.storage import SEGMENT_SIZE
from tests.documents.helpers import CASE_PATH, logged_in, upload_new
from tests.harness import Running

if TYPE_CHECKING:
    from e2e.conftest import Browse

CONTENT = b"".join(b"regel %07d van het verslag over de werkhouding\n" % i
                   for i in range(60_000))  # ~2.9 MiB: several 1 MiB pieces
NAME = "verslag.txt"


@pytest.fixture(params=["database", "dir"])
def portal(request: pytest.FixtureRequest, sqlite_url: str,
           start_portal: StartPortal) -> Running:
    """The portal with its files as segment rows, or as objects in the blob directory."""
    return start_portal(sqlite_url, blob_store=request.param)


def _version(db: Session, document_id: str) -> DocumentVersion:
    return db.scalars(select(DocumentVersion)
                      .where(DocumentVersion.document_id == document_id)).one()


def _segments(db: Session, document_id: str) -> list[DocumentSegment]:
    return list(db.scalars(select(DocumentSegment)
                           .where(DocumentSegment.version_id == _version(db, document_id).id)
                           .order_by(DocumentSegment.idx)))


def _object(portal: Running, db: Session, document_id: str) -> tuple[BlobStore, str, bytes]:
    version = _version(db, document_id)
    assert version.blob_store and version.blob_name
    store: BlobStore = portal.portal.blobs.get(version.blob_store)
    return store, version.blob_name, b"".join(store.open(version.blob_name))


def _last_segment(data: bytes) -> int:
    return len(data) - (len(data) - 1) // SEGMENT_SIZE * SEGMENT_SIZE


def truncated(portal: Running, db: Session, document_id: str) -> None:
    if _version(db, document_id).blob_store is None:
        db.delete(_segments(db, document_id)[-1])
        return
    store, name, data = _object(portal, db, document_id)
    store.write(name, [data[:-_last_segment(data)]])


def truncated_with_metadata_to_match(portal: Running, db: Session, document_id: str) -> None:
    version = _version(db, document_id)
    if version.blob_store is None:
        rows = _segments(db, document_id)
        version.size -= len(rows[-1].data) - 16
        version.segment_count -= 1
        db.delete(rows[-1])
        return
    store, name, data = _object(portal, db, document_id)
    last = _last_segment(data)
    version.size -= last - 16
    version.segment_count -= 1
    store.write(name, [data[:-last]])


def extended(portal: Running, db: Session, document_id: str) -> None:
    if _version(db, document_id).blob_store is None:
        rows = _segments(db, document_id)
        db.add(DocumentSegment(version_id=rows[0].version_id, idx=len(rows),
                               data=rows[-1].data))
        return
    store, name, data = _object(portal, db, document_id)
    store.write(name, [data + data[-_last_segment(data):]])


def size_at_a_piece_boundary(portal: Running, db: Session, document_id: str) -> None:
    _version(db, document_id).size = (64 * 1024 - 56) + 16 * (64 * 1024 - 16)


def altered_byte(portal: Running, db: Session, document_id: str) -> None:
    if _version(db, document_id).blob_store is None:
        row = _segments(db, document_id)[20]
        row.data = row.data[:100] + bytes([row.data[100] ^ 1]) + row.data[101:]
        return
    store, name, data = _object(portal, db, document_id)
    at = 20 * SEGMENT_SIZE + 100
    store.write(name, [data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]])


def _download(browse: Browse, running: Running) -> tuple[str | None, bytes | None]:
    page = browse()
    log_in(page, "Ilse Bakker")
    page.goto(f"{CASE_PATH}/documents")
    section = page.get_by_role("region", name="Verslagen en bijlagen")
    with page.expect_download() as started:
        section.get_by_role("link", name=f"downloaden {NAME}").click()
    download = started.value
    failure = download.failure()  # waits for the download to finish or fail
    return failure, None if failure else Path(download.path()).read_bytes()


def test_intact_file_downloads_whole(browse: Browse, portal: Running) -> None:
    upload_new(portal, logged_in(portal, "ib"), CONTENT, NAME)
    assert _download(browse, portal) == (None, CONTENT)


@pytest.mark.parametrize("attack", [truncated, truncated_with_metadata_to_match, extended,
                                    size_at_a_piece_boundary, altered_byte],
                         ids=lambda a: a.__name__)
def test_damaged_file_is_a_failed_download(
        browse: Browse, portal: Running,
        attack: Callable[[Running, Session, str], None]) -> None:
    document_id = upload_new(portal, logged_in(portal, "ib"), CONTENT, NAME)
    with portal.portal.sessions() as db, db.begin():
        attack(portal, db, document_id)
    failure, body = _download(browse, portal)
    assert failure is not None and body is None
