"""Crypto-shredding: erased content loses its keys and ciphertext; only the fact stays."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import event, select, text

from crypto import KeyUnavailable, LocalKeyFileProvider, WrappedKey
from portal.cli import main
from portal.documents.models import (
    CaseDocument,
    DocumentErasure,
    DocumentSegment,
    DocumentVersion,
)
from portal.vault.models import DataKey
from tests.documents.helpers import (
    CASE_PATH,
    counts,
    legacy_minutes,
    logged_in,
    upload_new,
)
from tests.harness import Running
from tests.vault.test_rotation import local  # noqa: F401  (fixture)


def _keys_and_segments(running: Running, document_id: str) -> tuple[list[DataKey], list[bytes]]:
    with running.portal.sessions() as db:
        versions = db.scalars(select(DocumentVersion)
                              .where(DocumentVersion.document_id == document_id)).all()
        keys = [db.get_one(DataKey, v.data_key_id) for v in versions]
        segments = list(db.scalars(select(DocumentSegment.data).where(
            DocumentSegment.version_id.in_([v.id for v in versions]))))
    return keys, segments


def test_chair_erases_a_document(running: Running) -> None:
    ib = logged_in(running, "ib")
    minutes_id = legacy_minutes(running, "ib", "Geheime notulen", "Versie een",
                                categories=("behaviour", "school_progress"))
    ib.submit(f"{CASE_PATH}/documents/{minutes_id}/versions",
              {"title": "Geheime notulen", "text": "Versie twee"})
    keep = upload_new(running, ib, b"blijft bestaan", "blijft.txt")
    keys, _ = _keys_and_segments(running, minutes_id)
    assert len(keys) == 2
    before = counts(running)

    unconfirmed = ib.submit(f"{CASE_PATH}/documents/{minutes_id}/erase")
    assert unconfirmed.status_code == 400
    assert counts(running) == before
    page = ib.submit(f"{CASE_PATH}/documents/{minutes_id}/erase", {"confirm": "on"})
    assert page.status_code == 200 and page.url.path == f"{CASE_PATH}/documents"
    assert "Geheime notulen" not in page.text
    assert "Gewist" in page.text and "Ilse Bakker" in page.text and "Gedrag" in page.text

    with running.portal.sessions() as db:
        assert db.get(CaseDocument, minutes_id) is None
        assert all(db.get(DataKey, k.id) is None for k in keys)
        erasure = db.scalars(select(DocumentErasure)).one()
        assert (erasure.document_id, erasure.kind.value, erasure.categories,
                erasure.versions) == (minutes_id, "minutes", "school_progress,behaviour", 2)
        assert db.get(CaseDocument, keep) is not None
    after = counts(running)
    assert after["data_key"] == before["data_key"] - 2
    assert after["document_version"] == before["document_version"] - 2
    assert ib.get(f"{CASE_PATH}/documents/{minutes_id}").status_code == 404


def test_chair_erases_all_content_of_a_case(running: Running) -> None:
    notulist = logged_in(running, "notulist")
    legacy_minutes(running, "notulist", "Notulen", "Tekst")
    upload_new(running, notulist, b"bijlage\n" * 30_000, "bijlage.txt")
    ib = logged_in(running, "ib")
    ib.submit(f"{CASE_PATH}/close", {"confirm": "1"})  # erasure outlives the consultation
    before = counts(running)
    page = ib.submit(f"{CASE_PATH}/erasure", {"confirm": "on"})
    assert page.status_code == 200
    assert page.text.count("gewist op") == 2
    after = counts(running)
    assert (after["case_document"], after["document_version"], after["document_segment"]) \
        == (0, 0, 0)
    assert after["data_key"] == before["data_key"] - 2
    mentor = logged_in(running, "mentor")
    assert mentor.submit(f"{CASE_PATH}/erasure", {"confirm": "on"}).status_code == 403


def test_nothing_brings_erased_content_back(local: Running) -> None:  # noqa: F811
    """The database file plus the keyring: the keys are overwritten in the file, and any
    older copy of them (a backup, an old WAL frame) is dead once its KEK version retires."""
    # Debian's SQLite overwrites deleted content by default, other builds do not:
    # switch that off so only the portal's own PRAGMA can make this pass.
    event.listen(local.portal.engine, "connect",
                 lambda conn, _: conn.execute("PRAGMA secure_delete = OFF"))
    local.portal.engine.dispose()
    ib = logged_in(local, "ib")
    document_id = upload_new(local, ib, b"zeer geheim verslag\n" * 10_000, "geheim.txt")
    (key,), segments = _keys_and_segments(local, document_id)
    backup = WrappedKey(key.kek_version, key.wrapped)  # what an old backup would hold
    ib.submit(f"{CASE_PATH}/documents/{document_id}/erase", {"confirm": "on"})

    db_file = Path(str(local.portal.engine.url.database))
    with sqlite3.connect(db_file, isolation_level=None) as conn:
        assert conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    stored = db_file.read_bytes() + Path(f"{db_file}-wal").read_bytes()
    assert key.wrapped not in stored, "secure_delete overwrote the wrapped key"
    assert not any(segment[100:164] in stored for segment in segments)
    with local.portal.sessions() as db:
        assert db.scalar(text("SELECT count(*) FROM data_key WHERE id = :id"),
                         {"id": key.id}) == 0

    assert main(["keys", "rotate"]) == 0
    assert main(["keys", "retire", str(backup.kek_version)]) == 0
    keyring = LocalKeyFileProvider(local.extra["keyring"], create=False)
    try:
        keyring.unwrap(backup)
    except KeyUnavailable:
        pass
    else:
        raise AssertionError("a retired KEK version still unwrapped an erased data key")
