"""File contents in a blob store: the local directory and a real S3-compatible server.

Every test runs the real portal over HTTP against each store (``rclone serve
s3`` for S3, see ``s3server.py``) on SQLite and PostgreSQL. Objects are
attacked the way someone with access to the store (or its backup) could: the
download must break off or be refused, on record, never look complete; a
store that is down answers 503 with nothing half-written.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from conftest import StartPortal
from portal.audit.models import AccessRecord
from portal.documents.blobs import PART_SIZE, BlobStore, DirBlobStore, S3BlobStore, new_blob_name
from portal.documents.garbage import purge_blobs
from portal.documents.models import (
    BlobGarbage,
    CaseDocument,
    DocumentSegment,
    DocumentVersion,
    VersionStatus,
)
from portal.documents.upload import sweep_pending
from portal.durable import WRITEBACK_BYTES
from portal.vault.models import DataKey
from tests.documents.helpers import CASE_PATH, logged_in, stream_download, upload, upload_new
from tests.documents.s3server import S3Server, s3_server  # noqa: F401  (fixture)
from tests.harness import Running

SIZE = 300_000  # five segments of 64 KiB


def _content(marker: bytes) -> bytes:
    return b"".join(b"regel %06d: gesprek over Sam, %s\n" % (i, marker)
                    for i in range(SIZE // 40))


@pytest.fixture(params=["dir", "s3"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def running(database_url: str, start_portal: StartPortal, store_kind: str,
            request: pytest.FixtureRequest) -> Running:
    if store_kind == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        started = start_portal(database_url, **server.settings())
        started.extra["s3"] = server
        return started
    return start_portal(database_url)


def _version(running: Running, document_id: str) -> DocumentVersion:
    with running.portal.sessions() as db:
        version: DocumentVersion = db.scalars(
            select(DocumentVersion).where(DocumentVersion.document_id == document_id)).one()
        db.expunge(version)
        return version


def _store(running: Running, kind: str) -> BlobStore:
    return running.portal.blobs.get(kind)  # type: ignore[no-any-return]


def _stored_files(running: Running) -> list[Path]:
    """The store's bytes on disk: the blob directory, or the S3 server's directory."""
    server: S3Server | None = running.extra.get("s3")
    if server is not None:
        return server.files()
    root = running.portal.settings.effective_blob_dir
    return [p for p in Path(root).rglob("*") if p.is_file()] if Path(root).exists() else []


def _failures(running: Running, event: str) -> list[str | None]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord.reason).where(
            AccessRecord.event_type == event, AccessRecord.outcome == "failed")))


def _rows(running: Running, model: type[object]) -> int:
    with running.portal.sessions() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def _download(running: Running, document_id: str) -> tuple[int, bytes, bool]:
    status, _, body, clean = stream_download(
        logged_in(running, "ib"), f"{CASE_PATH}/documents/{document_id}/download")
    return status, body, clean


def test_round_trip_no_plaintext_and_no_rows(running: Running, store_kind: str) -> None:
    canary = b"CANARY-" + secrets.token_hex(8).encode()
    content = _content(canary)
    ib = logged_in(running, "ib")
    document_id = upload_new(running, ib, content, "geheim-verslag.txt")
    version = _version(running, document_id)
    assert version.blob_store == store_kind and version.blob_name
    assert _rows(running, DocumentSegment) == 0  # nothing of the file in the database
    assert _store(running, store_kind).exists(version.blob_name)
    status, body, clean = _download(running, document_id)
    assert (status, clean, body == content) == (200, True, True)
    files = _stored_files(running)
    assert files, "the object is on disk"
    for path in files:
        assert canary not in path.read_bytes()
        assert b"gesprek over Sam" not in path.read_bytes()
        assert "geheim" not in str(path) and version.document_id not in str(path)


def _flip(data: bytes) -> bytes:
    at = len(data) // 2
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


ATTACKS: dict[str, Callable[[bytes, bytes], bytes]] = {
    "altered_byte": lambda data, other: _flip(data),
    "altered_header": lambda data, other: data[:5] + bytes([data[5] ^ 1]) + data[6:],
    "cut_short": lambda data, other: data[:-100],
    "last_segment_dropped": lambda data, other: data[:(len(data) // 65536) * 65536],
    "extended": lambda data, other: data + data[-65536:],
    "swapped_with_another_file": lambda data, other: other,
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_altered_object_fails_closed(running: Running, store_kind: str, attack: str) -> None:
    content = _content(b"x")
    ib = logged_in(running, "ib")
    other = upload_new(running, ib, b"B" * len(content), "b.txt")
    document_id = upload_new(running, ib, content, "a.txt")
    store = _store(running, store_kind)
    name = _version(running, document_id).blob_name
    other_name = _version(running, other).blob_name
    assert name and other_name
    data, other_data = b"".join(store.open(name)), b"".join(store.open(other_name))
    store.write(name, [ATTACKS[attack](data, other_data)])
    status, body, clean = _download(running, document_id)
    assert status in (200, 500)
    assert not clean or status == 500
    assert len(body) < len(content) and content.startswith(body)
    assert _failures(running, "document.download") == ["decryption_failed"]


def test_missing_object_is_refused_on_record(running: Running, store_kind: str) -> None:
    ib = logged_in(running, "ib")
    document_id = upload_new(running, ib, _content(b"x"), "a.txt")
    name = _version(running, document_id).blob_name
    assert name
    _store(running, store_kind).delete(name)
    response = ib.get(f"{CASE_PATH}/documents/{document_id}/download")
    assert response.status_code == 500
    assert "gesprek" not in response.text
    assert _failures(running, "document.download") == ["decryption_failed"]


def test_erasure_destroys_the_key_then_deletes_the_object(running: Running,
                                                          store_kind: str) -> None:
    ib = logged_in(running, "ib")
    document_id = upload_new(running, ib, _content(b"x"), "a.txt")
    version = _version(running, document_id)
    store = _store(running, store_kind)
    assert version.blob_name and store.exists(version.blob_name)
    ib.submit(f"{CASE_PATH}/documents/{document_id}/erase", {"confirm": "on"})
    with running.portal.sessions() as db:
        assert db.get(DataKey, version.data_key_id) is None  # the key went first
        assert db.get(CaseDocument, document_id) is None
    # The background purge, poked by the post after its commit, deletes the object and
    # then, in its own commit, the queue row: wait for both, not only the first.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (
            store.exists(version.blob_name) or _rows(running, BlobGarbage)):
        time.sleep(0.05)
    assert not store.exists(version.blob_name)
    assert _rows(running, BlobGarbage) == 0


# The S3 server is what goes down here; the directory case is below.
@pytest.mark.parametrize("store_kind", ["s3"])
def test_s3_down_upload_and_download_answer_503_and_nothing_is_half_written(
        running: Running, store_kind: str) -> None:
    server: S3Server = running.extra["s3"]
    ib = logged_in(running, "ib")
    kept = upload_new(running, ib, _content(b"x"), "blijft.txt")
    kept_name = _version(running, kept).blob_name
    before = (_rows(running, CaseDocument), _rows(running, DocumentVersion))
    server.stop()
    response = upload(ib, _content(b"y") * 40, "groot.txt")  # several multipart parts
    assert response.status_code == 503
    assert "tijdelijk niet beschikbaar" in response.text
    assert (_rows(running, CaseDocument), _rows(running, DocumentVersion)) == before
    assert _failures(running, "document.upload") == ["failed"]
    assert ib.get(f"{CASE_PATH}/documents/{kept}/download").status_code == 503
    # A delete that fails stays queued and is retried after the store is back.
    ib.submit(f"{CASE_PATH}/documents/{kept}/erase", {"confirm": "on"})
    with running.portal.sessions() as db, db.begin():
        assert purge_blobs(db, running.portal.blobs, running.clock()) == 0
    assert _rows(running, BlobGarbage) >= 1  # queued, not forgotten
    server.start()
    # The retry deletes it: this test's purge, or the portal's background one (which
    # may run first the moment the store is back), so wait for either.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (
            _store(running, "s3").exists(kept_name) or _rows(running, BlobGarbage)):
        with running.portal.sessions() as db, db.begin():
            purge_blobs(db, running.portal.blobs, running.clock() + timedelta(minutes=6))
        time.sleep(0.1)
    assert kept_name and not _store(running, "s3").exists(kept_name)
    assert _rows(running, BlobGarbage) == 0
    # Nothing of the refused upload is in the store: only the bucket is left.
    assert server.files() == []


def test_unwritable_blob_directory_answers_503(sqlite_url: str, start_portal: StartPortal,
                                                tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    running = start_portal(sqlite_url, blob_dir=blocker / "blobs")
    ib = logged_in(running, "ib")
    before = (_rows(running, CaseDocument), _rows(running, DocumentVersion))
    assert upload(ib, _content(b"x"), "a.txt").status_code == 503
    assert (_rows(running, CaseDocument), _rows(running, DocumentVersion)) == before


def test_dir_store_writes_whole_objects_or_nothing(tmp_path: Path) -> None:
    store = DirBlobStore(tmp_path / "blobs")
    name = secrets.token_hex(16)

    def broken() -> list[bytes]:
        raise RuntimeError("the upload broke off")

    def pieces() -> object:
        yield b"a" * 1000
        broken()

    with pytest.raises(RuntimeError):
        store.write(name, pieces())  # type: ignore[arg-type]
    assert not store.exists(name)
    assert list((tmp_path / "blobs" / ".tmp").iterdir()) == []
    assert store.write(name, [b"abc", b"def"]) == 6
    path = tmp_path / "blobs" / name[:2] / name
    assert path.read_bytes() == b"abcdef" and path.stat().st_mode & 0o077 == 0
    with pytest.raises(ValueError, match="not a blob name"):
        store.write("../etc/passwd", [b"x"])


def test_sweep_of_a_crashed_upload_deletes_its_object(running: Running, store_kind: str) -> None:
    """A worker killed after its object was whole but before the version was complete."""
    ib = logged_in(running, "ib")
    document_id = upload_new(running, ib, _content(b"x"), "a.txt")
    portal = running.portal
    with portal.sessions() as db, db.begin():
        version = db.scalars(select(DocumentVersion)
                             .where(DocumentVersion.document_id == document_id)).one()
        version.status = VersionStatus.PENDING
        version.touched_at = running.clock()
        name = version.blob_name
    assert name and _store(running, store_kind).exists(name)
    with portal.sessions() as db, db.begin():
        assert sweep_pending(db, portal.vault, running.clock() + timedelta(minutes=11)) == 1
    with portal.sessions() as db, db.begin():
        assert purge_blobs(db, portal.blobs, running.clock() + timedelta(minutes=11)) == 1
    assert not _store(running, store_kind).exists(name)
    assert _rows(running, BlobGarbage) == 0


def test_s3_gone_mid_download_breaks_off_on_record(sqlite_url: str, start_portal: StartPortal,
                                                   s3_server: S3Server) -> None:  # noqa: F811
    # Far more than every socket buffer between the store, the portal and us can hold.
    content = _content(b"x") * 160  # ~48 MiB
    running = start_portal(sqlite_url, max_upload_mb=64, **s3_server.settings())
    ib = logged_in(running, "ib")
    document_id = upload_new(running, ib, content, "groot.txt")
    received = bytearray()
    clean = True
    with ib.stream("GET", f"{CASE_PATH}/documents/{document_id}/download") as response:
        assert response.status_code == 200
        chunks = response.iter_raw()
        received += next(chunks)
        assert s3_server.process is not None
        s3_server.process.kill()  # the store dies with the download under way
        try:
            for chunk in chunks:
                received += chunk
        except (httpx.RemoteProtocolError, httpx.ReadError):
            clean = False
    assert not clean and len(received) < len(content)
    assert content.startswith(bytes(received))
    assert _failures(running, "document.download") == ["store_unavailable"]


MIB = 1024 * 1024


def _s3_store(server: S3Server, client: object = None) -> S3BlobStore:
    return S3BlobStore(bucket=server.bucket, endpoint=server.endpoint, region=server.region,
                       access_key_id=server.access_key, secret_access_key=server.secret_key,
                       client=client)


class _PartsInFlight:
    """The real boto3 client, counting the part uploads under way (a spy, not a stub).

    A part upload waits (up to ``patience``) until the file's next piece has
    been produced while it was under way, so a store that sends parts in the
    background shows it deterministically, and one that sends them in line
    simply never does.
    """

    def __init__(self, client: object, patience: float) -> None:
        self._client = client
        self.in_flight = 0
        self.overlapped = threading.Event()
        self._patience = patience

    def __getattr__(self, name: str) -> object:
        return getattr(self._client, name)

    def upload_part(self, **params: object) -> object:
        self.in_flight += 1
        try:
            self.overlapped.wait(self._patience)
            return self._client.upload_part(**params)  # type: ignore[attr-defined]
        finally:
            self.in_flight -= 1


def test_s3_store_sends_a_part_while_the_next_one_fills(s3_server: S3Server) -> None:  # noqa: F811
    spy = _PartsInFlight(_s3_store(s3_server)._client, patience=5.0)
    store = _s3_store(s3_server, client=spy)
    pieces = [secrets.token_bytes(MIB) for _ in range(2 * PART_SIZE // MIB + 3)]

    def produced() -> Iterator[bytes]:
        for piece in pieces:
            if spy.in_flight:
                spy.overlapped.set()
            yield piece

    name = new_blob_name()
    assert store.write(name, produced()) == len(pieces) * MIB  # three parts, the last short
    assert spy.overlapped.is_set()
    assert b"".join(store.open(name)) == b"".join(pieces)


def test_s3_store_broken_off_mid_part_leaves_no_object_and_no_open_upload(
        s3_server: S3Server) -> None:  # noqa: F811
    store = _s3_store(s3_server)

    def broken_off() -> Iterator[bytes]:
        for _ in range(PART_SIZE // MIB + 2):  # one part sent (or on its way), then gone
            yield secrets.token_bytes(MIB)
        raise RuntimeError("the upload broke off")

    name = new_blob_name()
    with pytest.raises(RuntimeError, match="broke off"):
        store.write(name, broken_off())
    assert not store.exists(name)
    open_uploads = store._client.list_multipart_uploads(Bucket=s3_server.bucket)
    assert open_uploads.get("Uploads", []) == []


def test_dir_store_writes_a_large_object_whole(tmp_path: Path) -> None:
    """Past ``WRITEBACK_BYTES`` the disk is set writing while the object is written."""
    store = DirBlobStore(tmp_path / "blobs")
    pieces = [secrets.token_bytes(MIB) for _ in range(2 * WRITEBACK_BYTES // MIB + 1)]
    pieces.append(secrets.token_bytes(12345))
    name = new_blob_name()
    assert store.write(name, iter(pieces)) == sum(map(len, pieces))
    assert b"".join(store.open(name)) == b"".join(pieces)
