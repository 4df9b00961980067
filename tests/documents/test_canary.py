"""Plaintext never rests: a canary written through the web is nowhere on disk or in the logs.

A unique string goes into a case title and purpose, minutes (title and text)
and an attachment (its name and content) through the real routes; it is read
back through the portal to prove it was stored. Then the whole database file
with its WAL (SQLite) or a ``pg_dump`` (PostgreSQL), every file under the
temporary directory (which also holds the test PostgreSQL cluster's data and
WAL), and everything the server side logged are searched, raw and hex-encoded
(the way ``bytea`` appears in a dump). A control string planted in plaintext
in each place proves each search would have found it.
"""

from __future__ import annotations

import logging
import mmap
import os
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from portal.demo import stable_id
from tests.documents.helpers import (
    CASE_PATH,
    legacy_minutes,
    logged_in,
    stream_download,
    upload_new,
)
from tests.harness import PostgresServer, Running, _pg_bin

CLIENT_LOGGERS = ("httpx", "httpcore")  # the test's browser stand-in, not the portal


def needles(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [raw, raw.hex().encode(), raw.hex().upper().encode()]


def files_containing(root: Path, secrets: list[bytes]) -> list[str]:
    found = []
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory, name)
            try:
                if not path.is_file() or path.stat().st_size == 0:
                    continue
                with open(path, "rb") as handle, \
                        mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                    if any(data.find(s) != -1 for s in secrets):
                        found.append(str(path))
            except (OSError, ValueError):
                continue  # sockets, vanished files
    return found


def server_log(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records
                     if not r.name.startswith(CLIENT_LOGGERS))


def pg_dump(postgres: PostgresServer, url: str) -> bytes:
    database = url.split("?")[0].rsplit("/", 1)[-1]
    command = [_pg_bin("pg_dump"), "-h", str(postgres.dir), "-U", "postgres", database]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, capture_output=True).stdout


def plant_control(running: Running, control: str) -> None:
    """Store and log a string in plaintext: the searches must find it (a control)."""
    with running.portal.engine.begin() as conn:
        conn.execute(text("CREATE TABLE canary_control (note varchar(100))"))
        conn.execute(text("INSERT INTO canary_control VALUES (:c)"), {"c": control})
    logging.getLogger("portal.canary_control").warning("control %s", control)


def stored_bytes(running: Running, database_url: str, request: pytest.FixtureRequest,
                 table: str) -> bytes:
    """Everything the database holds: SQLite's files (the WAL included, which must hold
    the recent writes), or a pg_dump that must contain ``table``'s rows."""
    if running.portal.engine.dialect.name == "sqlite":
        db_file = Path(database_url.removeprefix("sqlite:///"))
        stores = [db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm")]
        assert stores[1].stat().st_size > 0, "the WAL holds the recent writes"
        return b"".join(p.read_bytes() for p in stores if p.exists())
    dump = pg_dump(request.getfixturevalue("postgres"), database_url)
    assert f"COPY public.{table}".encode() in dump
    return dump


def test_canary_is_nowhere_at_rest(running: Running, database_url: str,
                                   caplog: pytest.LogCaptureFixture,
                                   capfd: pytest.CaptureFixture[str],
                                   tmp_path: Path, request: pytest.FixtureRequest) -> None:
    caplog.set_level(logging.DEBUG)
    canary = f"KANARIE-{uuid.uuid4().hex}"
    control = f"CONTROLE-{uuid.uuid4().hex}"
    ib = logged_in(running, "ib")

    created = ib.submit("/cases", {"child_id": stable_id("child", "sam"),
                                   "title": f"MDO {canary}", "purpose": f"Doel {canary}",
                                   "legal_basis": "consent"})
    assert created.status_code == 200 and canary in created.text
    written = legacy_minutes(running, "ib", f"Notulen {canary}",
                             f"Gesprek.\n\nZorg: {canary}\n")
    content = (f"Verslag {canary}\n" * 8000).encode()  # several segments
    document_id = upload_new(running, ib, content, f"{canary}.txt")
    assert canary in ib.page(f"{CASE_PATH}/documents").text
    _, headers, body, clean = stream_download(ib, f"{CASE_PATH}/documents/{document_id}/download")
    assert clean and body == content and canary in headers["content-disposition"]
    assert canary in ib.page(f"{CASE_PATH}/documents/{written}").text

    # Controls: the same searches find a string that *was* stored or logged in plaintext.
    plant_control(running, control)
    (tmp_path / "control.txt").write_text(control)

    secrets, controls = needles(canary), needles(control)
    store_bytes = stored_bytes(running, database_url, request, "document_segment")
    assert any(c in store_bytes for c in controls)
    assert not any(s in store_bytes for s in secrets)

    log = server_log(caplog) + "".join(capfd.readouterr())
    assert control in log
    assert canary not in log and canary.encode().hex() not in log

    temp_root = Path(tempfile.gettempdir())
    assert str(tmp_path / "control.txt") in files_containing(temp_root, controls)
    assert files_containing(temp_root, secrets) == []
