"""Attacks on the stored rows: swapped, flipped, truncated, reordered, duplicated ciphertext.

These are the segment rows of files stored before migration 0036 (and with
``PORTAL_BLOB_STORE=database``), which stay readable until migrated; the same
attacks on blob store objects are in ``tests/documents/test_blob_stores.py``.

Each attack changes the database directly (as someone with access to the
database or a backup could) and then reads through the portal. A damaged
file download must break off without ending cleanly, and every failure is
on record as ``failed``; damaged text is refused rather than shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from conftest import StartPortal
from portal.audit.models import AccessRecord
from portal.documents.models import CaseDocument, DocumentSegment, DocumentVersion
from portal.documents.storage import YIELD_BYTES
from tests.documents.helpers import (
    CASE_PATH,
    legacy_minutes,
    logged_in,
    stream_download,
    upload_new,
)
from tests.harness import PortalClient, Running

SIZE = 300_000  # five segments of 64 KiB


@dataclass
class Stored:
    client: PortalClient
    a: str  # attachment
    b: str  # another attachment, same size
    m1: str  # minutes with two versions
    m2: str  # other minutes
    other_case: str  # an anonymous case of the same chair
    content_a: bytes


@pytest.fixture
def running_sqlite(sqlite_url: str, start_portal: StartPortal) -> Running:
    """Files as segment rows, as before migration 0036."""
    return start_portal(sqlite_url, blob_store="database")


@pytest.fixture
def stored(running_sqlite: Running) -> Stored:
    ib = logged_in(running_sqlite, "ib")
    content_a = "".join(f"regel {i:06d}: gesprek over Sam\n"
                        for i in range(SIZE // 30)).encode()
    b = upload_new(running_sqlite, ib, b"B" * len(content_a), "b.txt")
    a = upload_new(running_sqlite, ib, content_a, "a.txt")
    m1 = legacy_minutes(running_sqlite, "ib", "Eerste notulen", "Versie een")
    ib.submit(f"{CASE_PATH}/documents/{m1}/versions", {"title": "Eerste notulen",
                                                       "text": "Versie twee"})
    m2 = legacy_minutes(running_sqlite, "ib", "Tweede notulen", "Ander verslag")
    created = ib.submit("/cases", {"anonymous": "on", "title": "Anonieme casus",
                                   "purpose": "Anoniem overleg", "legal_basis": "consent"})
    other_case = created.url.path.split("/")[2]
    return Stored(ib, a, b, m1, m2, other_case, content_a)


def _segments(db: Session, document_id: str) -> list[DocumentSegment]:
    version_id = db.scalars(select(DocumentVersion.id)
                            .where(DocumentVersion.document_id == document_id)).one()
    return list(db.scalars(select(DocumentSegment).where(DocumentSegment.version_id == version_id)
                           .order_by(DocumentSegment.idx)))


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def flip_header(db: Session, s: Stored) -> None:
    rows = _segments(db, s.a)
    rows[0].data = _flip(rows[0].data, 5)


def flip_segment(db: Session, s: Stored) -> None:
    rows = _segments(db, s.a)
    rows[2].data = _flip(rows[2].data, 1000)


def flip_tag(db: Session, s: Stored) -> None:
    rows = _segments(db, s.a)
    rows[1].data = _flip(rows[1].data, len(rows[1].data) - 3)


def flip_last(db: Session, s: Stored) -> None:
    rows = _segments(db, s.a)
    rows[-1].data = _flip(rows[-1].data, 0)


def drop_last_segment(db: Session, s: Stored) -> None:
    db.delete(_segments(db, s.a)[-1])


def drop_middle_segment(db: Session, s: Stored) -> None:
    db.delete(_segments(db, s.a)[2])


def cut_last_bytes(db: Session, s: Stored) -> None:
    rows = _segments(db, s.a)
    rows[-1].data = rows[-1].data[:-1]


def reorder_segments(db: Session, s: Stored) -> None:
    rows = _segments(db, s.a)
    rows[1].data, rows[2].data = rows[2].data, rows[1].data


def duplicate_segment(db: Session, s: Stored) -> None:
    rows = _segments(db, s.a)
    rows[2].data = rows[1].data


def append_duplicate(db: Session, s: Stored) -> None:
    rows = _segments(db, s.a)
    db.add(DocumentSegment(version_id=rows[0].version_id, idx=len(rows), data=rows[-1].data))


def swap_segment_with_other_document(db: Session, s: Stored) -> None:
    rows_a, rows_b = _segments(db, s.a), _segments(db, s.b)
    rows_a[1].data, rows_b[1].data = rows_b[1].data, rows_a[1].data


def swap_all_segments_with_other_document(db: Session, s: Stored) -> None:
    for row_a, row_b in zip(_segments(db, s.a), _segments(db, s.b), strict=True):
        row_a.data, row_b.data = row_b.data, row_a.data


def swap_data_keys(db: Session, s: Stored) -> None:
    va = db.scalars(select(DocumentVersion).where(DocumentVersion.document_id == s.a)).one()
    vb = db.scalars(select(DocumentVersion).where(DocumentVersion.document_id == s.b)).one()
    va.data_key_id, vb.data_key_id = vb.data_key_id, va.data_key_id


SEGMENT_ATTACKS = [flip_header, flip_segment, flip_tag, flip_last, drop_last_segment,
                   drop_middle_segment, cut_last_bytes, reorder_segments, duplicate_segment,
                   append_duplicate, swap_segment_with_other_document,
                   swap_all_segments_with_other_document]


def _latest(db: Session, document_id: str) -> DocumentVersion:
    return db.scalars(select(DocumentVersion)
                      .where(DocumentVersion.document_id == document_id)).one()


def size_lowered_to_a_piece_boundary(db: Session, s: Stored) -> None:
    """Issue 16: a truncated file that looked whole (the first 1 MiB piece, or less)."""
    _latest(db, s.a).size = 4 * (64 * 1024 - 16) - 40


def size_lowered_by_one(db: Session, s: Stored) -> None:
    _latest(db, s.a).size -= 1


def size_raised(db: Session, s: Stored) -> None:
    _latest(db, s.a).size += 1


def segment_count_lowered(db: Session, s: Stored) -> None:
    _latest(db, s.a).segment_count -= 1


def last_segment_dropped_and_size_to_match(db: Session, s: Stored) -> None:
    version = _latest(db, s.a)
    dropped = _segments(db, s.a)[-1]
    version.size -= len(dropped.data) - 16
    version.segment_count -= 1
    db.delete(dropped)


METADATA_ATTACKS = [size_lowered_to_a_piece_boundary, size_lowered_by_one, size_raised,
                    segment_count_lowered, last_segment_dropped_and_size_to_match]


def _tamper(running: Running, attack: Callable[[Session, Stored], None], s: Stored) -> None:
    with running.portal.sessions() as db, db.begin():
        attack(db, s)


def _failures(running: Running, event: str) -> list[str | None]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord.object_id).where(
            AccessRecord.event_type == event, AccessRecord.outcome == "failed")))


def test_untouched_download_is_intact(running_sqlite: Running, stored: Stored) -> None:
    status, headers, body, clean = stream_download(
        stored.client, f"{CASE_PATH}/documents/{stored.a}/download")
    assert (status, clean, body == stored.content_a) == (200, True, True)
    assert int(headers["content-length"]) == len(stored.content_a)
    assert _failures(running_sqlite, "document.download") == []


@pytest.mark.parametrize("attack", SEGMENT_ATTACKS + METADATA_ATTACKS,
                         ids=lambda a: a.__name__)
def test_tampered_file_download_breaks_off(running_sqlite: Running, stored: Stored,
                                           attack: Callable[[Session, Stored], None]) -> None:
    _tamper(running_sqlite, attack, stored)
    status, headers, body, clean = stream_download(
        stored.client, f"{CASE_PATH}/documents/{stored.a}/download")
    assert status == 200  # headers went out; the body must then break off
    assert not clean
    assert len(body) < int(headers["content-length"])
    assert len(body) < len(stored.content_a)
    assert stored.content_a.startswith(body), "only authentic plaintext before the break"
    assert _failures(running_sqlite, "document.download") == [stored.a]


def test_swapped_data_key_is_refused(running_sqlite: Running, stored: Stored) -> None:
    _tamper(running_sqlite, swap_data_keys, stored)
    response = stored.client.get(f"{CASE_PATH}/documents/{stored.a}/download")
    assert response.status_code == 500  # the file name no longer decrypts
    assert _failures(running_sqlite, "document.download") == [stored.a]


def test_document_moved_to_another_case_is_refused(running_sqlite: Running,
                                                   stored: Stored) -> None:
    with running_sqlite.portal.sessions() as db, db.begin():
        db.execute(update(CaseDocument).where(CaseDocument.id.in_([stored.a, stored.m1]))
                   .values(case_id=stored.other_case))
    moved = f"/cases/{stored.other_case}/documents"
    assert stored.client.get(f"{moved}/{stored.m1}").status_code == 500
    assert stored.client.get(f"{moved}/{stored.a}/download").status_code == 500
    assert set(_failures(running_sqlite, "document.view")) == {stored.m1}
    # Nor does it show in the other case's list: it is marked damaged there.
    page = stored.client.page(f"/cases/{stored.other_case}/documents").text
    assert "Eerste notulen" not in page and "kon niet worden ontsleuteld" in page


def _versions(db: Session, document_id: str) -> list[DocumentVersion]:
    return list(db.scalars(select(DocumentVersion).where(
        DocumentVersion.document_id == document_id).order_by(DocumentVersion.version)))


def swap_text_between_documents(db: Session, s: Stored) -> None:
    m1, m2 = _versions(db, s.m1)[-1], _versions(db, s.m2)[-1]
    m1.text_ct, m2.text_ct = m2.text_ct, m1.text_ct


def swap_text_between_versions(db: Session, s: Stored) -> None:
    v1, v2 = _versions(db, s.m1)
    v1.text_ct, v2.text_ct = v2.text_ct, v1.text_ct


def swap_fields(db: Session, s: Stored) -> None:
    latest = _versions(db, s.m1)[-1]
    latest.title_ct, latest.text_ct = latest.text_ct, latest.title_ct


def flip_text(db: Session, s: Stored) -> None:
    latest = _versions(db, s.m1)[-1]
    assert latest.text_ct is not None
    latest.text_ct = _flip(latest.text_ct, len(latest.text_ct) - 20)


@pytest.mark.parametrize("attack", [swap_text_between_documents, swap_text_between_versions,
                                    swap_fields, flip_text], ids=lambda a: a.__name__)
def test_tampered_minutes_are_refused(running_sqlite: Running, stored: Stored,
                                      attack: Callable[[Session, Stored], None]) -> None:
    _tamper(running_sqlite, attack, stored)
    response = stored.client.get(f"{CASE_PATH}/documents/{stored.m1}")
    assert response.status_code == 500
    for text in ("Versie een", "Versie twee", "Ander verslag"):
        assert text not in response.text
    assert _failures(running_sqlite, "document.view") == [stored.m1]


def test_swapped_file_names_show_as_damaged(running_sqlite: Running, stored: Stored) -> None:
    with running_sqlite.portal.sessions() as db, db.begin():
        va = db.scalars(select(DocumentVersion).where(DocumentVersion.document_id == stored.a))
        vb = db.scalars(select(DocumentVersion).where(DocumentVersion.document_id == stored.b))
        row_a, row_b = va.one(), vb.one()
        row_a.filename_ct, row_b.filename_ct = row_b.filename_ct, row_a.filename_ct
    page = stored.client.page(f"{CASE_PATH}/documents").text
    assert "a.txt" not in page and "b.txt" not in page
    assert page.count("kon niet worden ontsleuteld") == 2
    assert set(_failures(running_sqlite, "document.list")) == {stored.a, stored.b}


def test_size_at_a_yield_boundary_never_looks_complete(running_sqlite: Running) -> None:
    """Issue 16's attack: ``size`` set to where a sent piece ends gave a whole-looking file."""
    ib = logged_in(running_sqlite, "ib")
    content = b"".join(b"regel %07d van het verslag\n" % i for i in range(100_000))
    assert len(content) > 2 * YIELD_BYTES  # pieces of 1 MiB go out
    file_id = upload_new(running_sqlite, ib, content, "groot.txt")
    # The first piece sent: the first 17 segments' plaintext (the first >= 1 MiB).
    boundary = (64 * 1024 - 56) + 16 * (64 * 1024 - 16)
    assert boundary >= YIELD_BYTES
    with running_sqlite.portal.sessions() as db, db.begin():
        _latest(db, file_id).size = boundary
    status, headers, body, clean = stream_download(
        ib, f"{CASE_PATH}/documents/{file_id}/download")
    assert (status, int(headers["content-length"])) == (200, boundary)
    assert not clean and len(body) < boundary
    assert _failures(running_sqlite, "document.download") == [file_id]
