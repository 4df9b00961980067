"""An upload commits its decision first, streams in short transactions, completes last.

So a slow uploader holds no lock while its bytes trickle in, and whatever dies
half-way (a cancelled client, a crashed process) leaves nothing visible and,
after the sweep, no key behind.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from conftest import StartPortal
from portal.audit.models import AccessRecord
from portal.cli import main
from portal.db import unit_of_work
from portal.demo import stable_id
from portal.documents.cli import sweep
from portal.documents.models import CaseDocument, DocumentKind, DocumentVersion, VersionStatus
from portal.documents.service import start_version
from portal.vault.models import DataKey
from tests.documents.helpers import (
    CASE_ID,
    CASE_PATH,
    counts,
    document_ids,
    logged_in,
    stream_download,
    upload_new,
)
from tests.harness import Running

BOUNDARY = "slow-upload-boundary"
# One chunk is more than the portal pulls from the socket per hop (256 KiB).
LINE = b"een regel van een langzaam verstuurd verslag\n" * 6000
# Enough chunks that the old behaviour (one transaction for the whole upload)
# makes the read wait until the upload ends -- and the test fail.
MAX_CHUNKS = 40


def slow_upload_head(csrf: str, filename: str = "traag.txt") -> bytes:
    fields = {"csrf_token": csrf, "kind": "attachment", "category_behaviour": "on"}
    parts = "".join(f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n"
                    f"{v}\r\n" for k, v in fields.items())
    return (parts + f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{filename}\"\r\nContent-Type: text/plain\r\n\r\n").encode()


SLOW_UPLOAD_TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()
SLOW_UPLOAD_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def _pending_versions(running: Running) -> list[DocumentVersion]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(DocumentVersion)
                               .where(DocumentVersion.status == VersionStatus.PENDING)))


def wait_for_pending(running: Running) -> bool:
    """Until an upload's phase 1 has committed (a poll with a deadline, not a timing)."""
    deadline = time.monotonic() + 20
    while not _pending_versions(running) and time.monotonic() < deadline:
        time.sleep(0.05)
    return bool(_pending_versions(running))


def test_a_slow_upload_does_not_hold_up_other_readers(running: Running) -> None:
    uploader = logged_in(running, "ib")
    reader = logged_in(running, "mentor")
    before = document_ids(running)
    streaming, read_done = threading.Event(), threading.Event()
    sent: list[int] = []
    outcome: dict[str, object] = {}

    def body() -> Iterator[bytes]:
        yield slow_upload_head(uploader.csrf)
        for number in range(MAX_CHUNKS):
            yield LINE
            sent.append(number)
            if number == 2:
                streaming.set()
            if read_done.is_set() and number >= 5:
                break
            time.sleep(0.3)  # a slow but steady sender
        yield SLOW_UPLOAD_TAIL

    def send() -> None:
        outcome["response"] = uploader.post(
            f"{CASE_PATH}/documents", content=body(),
            headers={"Content-Type": SLOW_UPLOAD_TYPE})
        outcome["done"] = True

    thread = threading.Thread(target=send)
    thread.start()
    assert streaming.wait(30)
    # The decision and the pending version are committed; the version is invisible.
    (pending,) = _pending_versions(running)
    assert uploader.get(f"{CASE_PATH}/documents/{pending.document_id}").status_code == 404
    page = reader.get(CASE_PATH)
    finished_first = outcome.get("done", False)
    read_done.set()
    thread.join(60)
    assert page.status_code == 200
    assert not finished_first, "the read had to wait for the upload to end"
    response = outcome["response"]
    assert isinstance(response, httpx.Response) and response.status_code == 200, response.text
    (new,) = document_ids(running) - before
    assert new == pending.document_id
    assert _pending_versions(running) == []
    status, _, content, clean = stream_download(uploader, f"{CASE_PATH}/documents/{new}/download")
    assert status == 200 and clean and content == LINE * len(sent)


def test_a_cancelled_upload_leaves_no_rows_and_no_key(running: Running) -> None:
    uploader = logged_in(running, "ib")
    before = counts(running)
    host, port = running.base_url.removeprefix("http://").split(":")
    cookies = "; ".join(f"{k}={v}" for k, v in uploader.cookies.items())
    head = slow_upload_head(uploader.csrf)
    request = (f"POST {CASE_PATH}/documents HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Origin: {running.base_url}\r\nCookie: {cookies}\r\n"
               f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
               f"Content-Length: 10000000\r\n\r\n").encode() + head
    with socket.create_connection((host, int(port)), timeout=15) as sock:
        sock.sendall(request)
        for _ in range(3):  # several batches' worth of segments reach the database
            sock.sendall(LINE)
        assert wait_for_pending(running), "phase 1 committed before the file streamed"
    # The client is gone: the portal takes everything back.
    deadline = time.monotonic() + 20
    while counts(running) != before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert counts(running) == before
    with running.portal.sessions() as db:
        reasons = list(db.scalars(select(AccessRecord.reason)
                                  .where(AccessRecord.event_type == "document.upload",
                                         AccessRecord.outcome == "failed")))
    assert reasons == ["cancelled"]


def _crashed_upload(running: Running) -> tuple[str, str, str]:
    """What a process that died during phase 2 leaves: a committed pending version."""
    portal = running.portal
    with unit_of_work(portal.sessions) as db:
        document = CaseDocument(case_id=CASE_ID, kind=DocumentKind.ATTACHMENT,
                                categories="behaviour", created_at=running.clock(),
                                created_by=stable_id("person", "ib"))
        db.add(document)
        db.flush()
        version, key = start_version(db, portal.vault, document, 1, document.created_by,
                                     running.clock())
        version.touched_at = running.clock()
        return document.id, version.id, key.id


def _gone(running: Running, document_id: str, version_id: str, key_id: str) -> bool:
    with running.portal.sessions() as db:
        return (db.get(CaseDocument, document_id) is None
                and db.get(DocumentVersion, version_id) is None
                and db.get(DataKey, key_id) is None)


def test_the_sweep_takes_back_a_crashed_upload_after_the_grace(running: Running) -> None:
    ib = logged_in(running, "ib")
    kept = upload_new(running, ib, b"blijft staan\n", "blijft.txt")
    document_id, version_id, key_id = _crashed_upload(running)
    portal = running.portal
    # An upload still streaming on another worker is left alone ...
    assert sweep(portal.sessions, portal.vault, running.clock() + timedelta(minutes=5)) == 0
    assert not _gone(running, document_id, version_id, key_id)
    # ... one whose heartbeat stopped long ago goes, its data key with it.
    assert sweep(portal.sessions, portal.vault, running.clock() + timedelta(minutes=11)) == 1
    assert _gone(running, document_id, version_id, key_id)
    assert kept in document_ids(running)
    assert ib.get(f"{CASE_PATH}/documents/{kept}").status_code == 200


def test_portal_documents_sweep(start_portal: StartPortal, sqlite_url: str, keys_dir: Path,
                                monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    running = start_portal(sqlite_url)
    for name, value in {"PORTAL_DATABASE_URL": sqlite_url,
                        "PORTAL_DATA_DIR": str(keys_dir)}.items():
        monkeypatch.setenv(name, value)
    document_id, version_id, key_id = _crashed_upload(running)
    assert main(["documents", "sweep", "--grace-minutes", "0"]) == 0
    assert "1 pending upload version(s) deleted" in capsys.readouterr().out
    assert _gone(running, document_id, version_id, key_id)


def test_a_trickling_upload_keeps_its_heartbeat_and_is_not_swept(running: Running) -> None:
    """Far less than one batch (2 MiB) per grace: the heartbeat still moves by time."""
    portal = running.portal
    uploader = logged_in(running, "ib")
    before = document_ids(running)
    feed: queue.Queue[bytes | None] = queue.Queue()
    outcome: dict[str, object] = {}

    def body() -> Iterator[bytes]:
        yield slow_upload_head(uploader.csrf)
        while (chunk := feed.get(timeout=60)) is not None:
            yield chunk
        yield SLOW_UPLOAD_TAIL

    def send() -> None:
        outcome["response"] = uploader.post(
            f"{CASE_PATH}/documents", content=body(),
            headers={"Content-Type": SLOW_UPLOAD_TYPE})

    thread = threading.Thread(target=send)
    thread.start()
    piece = b"een zeer langzame regel\n" * 400  # ~10 KB: no batch is ever written
    feed.put(piece)  # the type check needs the file's first bytes before phase 1
    assert wait_for_pending(running)
    for _ in range(6):  # 18 minutes of the portal's clock, well past the grace
        running.clock.advance(minutes=3)
        feed.put(piece)
        deadline = time.monotonic() + 10  # until the server has read it (a poll, no timing)
        while time.monotonic() < deadline and not any(
                v.touched_at == running.clock() for v in _pending_versions(running)):
            time.sleep(0.05)
        assert sweep(portal.sessions, portal.vault, running.clock()) == 0
    feed.put(None)
    thread.join(60)
    response = outcome["response"]
    assert isinstance(response, httpx.Response) and response.status_code == 200, response.text
    (new,) = document_ids(running) - before
    reader = logged_in(running, "ib")  # the uploader's session has idled out meanwhile
    status, _, content, clean = stream_download(reader, f"{CASE_PATH}/documents/{new}/download")
    assert status == 200 and clean and content == piece * 7
