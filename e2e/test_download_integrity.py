"""A stored file cut short or extended: Chromium must report the download as failed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from e2e.pages import log_in
from portal.documents.models import DocumentSegment, DocumentVersion
from tests.documents.helpers import CASE_PATH, logged_in, upload_new
from tests.harness import Running

if TYPE_CHECKING:
    from e2e.conftest import Browse

CONTENT = b"".join(b"regel %07d van het verslag over de werkhouding\n" % i
                   for i in range(60_000))  # ~2.9 MiB: several 1 MiB pieces
NAME = "verslag.txt"


def _version(db: Session, document_id: str) -> DocumentVersion:
    return db.scalars(select(DocumentVersion)
                      .where(DocumentVersion.document_id == document_id)).one()


def _segments(db: Session, document_id: str) -> list[DocumentSegment]:
    return list(db.scalars(select(DocumentSegment)
                           .where(DocumentSegment.version_id == _version(db, document_id).id)
                           .order_by(DocumentSegment.idx)))


def truncated(db: Session, document_id: str) -> None:
    db.delete(_segments(db, document_id)[-1])


def truncated_with_metadata_to_match(db: Session, document_id: str) -> None:
    rows, version = _segments(db, document_id), _version(db, document_id)
    version.size -= len(rows[-1].data) - 16
    version.segment_count -= 1
    db.delete(rows[-1])


def extended(db: Session, document_id: str) -> None:
    rows = _segments(db, document_id)
    db.add(DocumentSegment(version_id=rows[0].version_id, idx=len(rows), data=rows[-1].data))


def size_at_a_piece_boundary(db: Session, document_id: str) -> None:
    _version(db, document_id).size = (64 * 1024 - 56) + 16 * (64 * 1024 - 16)


def _download(browse: Browse, running: Running) -> tuple[str | None, bytes | None]:
    page = browse()
    log_in(page, "Ilse Bakker")
    page.goto(CASE_PATH)
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
                                    size_at_a_piece_boundary], ids=lambda a: a.__name__)
def test_damaged_file_is_a_failed_download(browse: Browse, portal: Running,
                                           attack: Callable[[Session, str], None]) -> None:
    document_id = upload_new(portal, logged_in(portal, "ib"), CONTENT, NAME)
    with portal.portal.sessions() as db, db.begin():
        attack(db, document_id)
    failure, body = _download(browse, portal)
    assert failure is not None and body is None
