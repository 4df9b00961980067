"""``portal documents migrate-storage``: segment rows out of the database, resumable.

Files uploaded with ``PORTAL_BLOB_STORE=database`` (as every file before
migration 0036) are moved into the directory store and into a real S3 server.
A crash in the middle of an object, or between the object and the switch,
leaves every version readable; running again finishes; an object that was
written but never switched to is deleted by the purge after its grace.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import StartPortal
from portal.cli import main
from portal.documents.blobs import BlobStore, BlobStores
from portal.documents.garbage import purge_blobs
from portal.documents.migrate import INTENT_GRACE, migrate_storage
from portal.documents.models import BlobGarbage, DocumentSegment, DocumentVersion
from tests.documents.helpers import CASE_PATH, logged_in, stream_download, upload_new
from tests.documents.s3server import S3Server, s3_server  # noqa: F401  (fixture)
from tests.harness import Running

CONTENTS = [b"".join(b"bestand %d regel %06d\n" % (n, i) for i in range(12_000 + n * 500))
            for n in range(3)]


class Crash(BaseException):
    """The process dies (kill -9 has no handler: nothing after this line runs)."""


class Crashing:
    """A store whose ``at``-th write dies: in the middle, or just after the object is whole."""

    def __init__(self, inner: BlobStore, at: int, after_write: bool) -> None:
        self.inner, self.at, self.after_write = inner, at, after_write
        self.kind = inner.kind
        self.writes = 0

    def write(self, name: str, pieces: Iterable[bytes]) -> int:
        self.writes += 1
        if self.writes != self.at:
            return self.inner.write(name, pieces)
        if self.after_write:
            self.inner.write(name, pieces)
            raise Crash

        def half() -> Iterator[bytes]:
            for number, piece in enumerate(pieces):
                if number == 2:
                    raise Crash
                yield piece

        return self.inner.write(name, half())

    def __getattr__(self, attribute: str) -> object:
        return getattr(self.inner, attribute)


@pytest.fixture(params=["dir", "s3"])
def target(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def legacy(database_url: str, start_portal: StartPortal, target: str,
           request: pytest.FixtureRequest) -> Running:
    """A portal that stores files as rows (as before 0036) and can reach the target store."""
    extra = {}
    if target == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        extra = server.settings()
    return start_portal(database_url, **{**extra, "blob_store": "database"})


def _uploads(running: Running) -> list[str]:
    ib = logged_in(running, "ib")
    return [upload_new(running, ib, content, f"oud-{n}.txt")
            for n, content in enumerate(CONTENTS)]


def _where(running: Running) -> list[str | None]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(DocumentVersion.blob_store)
                               .order_by(DocumentVersion.id)))


def _all_download_whole(running: Running, documents: list[str]) -> bool:
    ib = logged_in(running, "ib")
    for document_id, content in zip(documents, CONTENTS, strict=True):
        status, _, body, clean = stream_download(
            ib, f"{CASE_PATH}/documents/{document_id}/download")
        if (status, clean, body == content) != (200, True, True):
            return False
    return True


def _segment_rows(running: Running) -> int:
    with running.portal.sessions() as db:
        return db.scalar(select(func.count()).select_from(DocumentSegment)) or 0


def test_migration_survives_crashes_and_finishes(legacy: Running, target: str) -> None:
    documents = _uploads(legacy)
    assert _where(legacy) == [None, None, None] and _segment_rows(legacy) > 0
    portal = legacy.portal
    store = portal.blobs.get(target)

    # 1. Dies in the middle of the second object: one version moved, the rest as they were.
    crashing = Crashing(store, at=2, after_write=False)
    with pytest.raises(Crash):
        migrate_storage(portal.sessions, BlobStores(target, {target: crashing}), legacy.clock)
    assert sorted(_where(legacy), key=str) == [None, None, target]
    assert _all_download_whole(legacy, documents)

    # 2. Dies after the next object is whole but before the switch: still two on rows.
    crashing = Crashing(store, at=1, after_write=True)
    with pytest.raises(Crash):
        migrate_storage(portal.sessions, BlobStores(target, {target: crashing}), legacy.clock)
    assert sorted(_where(legacy), key=str) == [None, None, target]
    assert _all_download_whole(legacy, documents)

    # 3. Run again: finishes, counts what it did, and nothing is left on rows.
    report = migrate_storage(portal.sessions, BlobStores(target, {target: store}),
                             legacy.clock)
    assert (report.moved, report.skipped, report.remaining) == (2, 0, 0)
    assert report.bytes > 2 * len(CONTENTS[0])  # ciphertext of two files, byte for byte
    assert _where(legacy) == [target] * 3 and _segment_rows(legacy) == 0
    assert _all_download_whole(legacy, documents)
    again = migrate_storage(portal.sessions, BlobStores(target, {target: store}), legacy.clock)
    assert (again.moved, again.remaining) == (0, 0)

    # The object of crash 2 was queued before it was written: deleted after the grace,
    # and only it (the objects in use stay).
    with portal.sessions() as db:
        orphans = list(db.scalars(select(BlobGarbage.name)))
        in_use = list(db.scalars(select(DocumentVersion.blob_name)))
    assert len(orphans) == 2  # crash 1 (never visible) and crash 2 (whole)
    with portal.sessions() as db, db.begin():
        assert purge_blobs(db, portal.blobs, legacy.clock()) == 0  # a copy may still run
    with portal.sessions() as db, db.begin():
        purge_blobs(db, portal.blobs, legacy.clock() + INTENT_GRACE + timedelta(minutes=1))
    assert not any(store.exists(name) for name in orphans)
    assert all(name and store.exists(name) for name in in_use)
    assert _all_download_whole(legacy, documents)


def test_portal_documents_migrate_storage(sqlite_url: str, start_portal: StartPortal,
                                          keys_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    running = start_portal(sqlite_url, blob_store="database")
    documents = _uploads(running)
    for name, value in {"PORTAL_DATABASE_URL": sqlite_url, "PORTAL_DATA_DIR": str(keys_dir),
                        "PORTAL_BLOB_STORE": "dir"}.items():
        monkeypatch.setenv(name, value)
    assert main(["documents", "migrate-storage"]) == 0
    out = capsys.readouterr().out
    assert "3 version(s) moved to the dir store" in out and "0 still in the database" in out
    assert _where(running) == ["dir"] * 3
    assert _all_download_whole(running, documents)
    monkeypatch.setenv("PORTAL_BLOB_STORE", "database")
    assert main(["documents", "migrate-storage"]) == 2
