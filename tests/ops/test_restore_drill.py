"""The restore drill of docs/operations.md, end to end on PostgreSQL.

A portal with data (the demo case, minutes, an uploaded attachment, reads in
the access log) is backed up the documented way while it runs: the keyring
(in production the HSM token backup), the audit signing key, the checkpoint
directory, then ``pg_dump``, then the blob store. All of it is restored into a fresh PostgreSQL
cluster and a fresh data directory; the case pages decrypt, ``portal audit
verify`` passes against the exported checkpoints, and every table holds the
same rows as before.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import Connection, make_url, text

from crypto import LocalKeyFileProvider
from portal.app import create_app
from portal.db import make_engine
from portal.settings import Settings
from tests.documents.helpers import (
    CASE_PATH,
    legacy_minutes,
    logged_in,
    stream_download,
    upload_new,
)
from tests.harness import FakeClock, PostgresServer, Running, _pg_bin, bind_socket, serve

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "drill.mdo-portaal.test/access-log"
MINUTES_TEXT = "Afspraak: twee weken observeren, daarna terugkoppelen aan ouders"
ATTACHMENT = b"verslag van de intern begeleider\n" * 5_000


@dataclass(frozen=True)
class Install:
    """What one installation keeps outside its database."""

    keyring: Path
    signing_key: Path
    checkpoints: Path

    @classmethod
    def under(cls, root: Path) -> Install:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        return cls(keyring=root / "keys" / "keyring.json",
                   signing_key=root / "keys" / "audit-signing-key.pem",
                   checkpoints=root / "checkpoints")


def start(url: str, install: Install, data_dir: Path) -> Running:
    settings = Settings(mode="dev", database_url=url, data_dir=data_dir,
                        keyring_file=install.keyring,
                        audit_signing_key=install.signing_key.read_text(),
                        audit_origin=ORIGIN, audit_checkpoint_every=5,
                        audit_checkpoint_dir=install.checkpoints)
    sock = bind_socket()
    settings = Settings(**{**settings.__dict__,
                           "public_url": f"http://127.0.0.1:{sock.getsockname()[1]}"})
    clock = FakeClock()
    return serve(create_app(settings, clock=clock), sock, clock)


def as_postgres(*cmd: str) -> None:
    """Run a PostgreSQL client tool the way the operator's backup job would."""
    if os.geteuid() == 0:
        cmd = ("runuser", "-u", "postgres", "--", *cmd)
    subprocess.run(cmd, check=True, capture_output=True)


def table_contents(url: str) -> dict[str, tuple[int, str]]:
    """Every table: its row count and a digest of all its rows."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return _contents(conn)
    finally:
        engine.dispose()


def _contents(conn: Connection) -> dict[str, tuple[int, str]]:
    tables = conn.scalars(text("SELECT tablename FROM pg_tables "
                               "WHERE schemaname = 'public' ORDER BY 1")).all()
    return {table: _digest(conn, table) for table in tables}


def _digest(conn: Connection, table: str) -> tuple[int, str]:
    # The name comes from pg_tables, not from input.
    digest = "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
    row = conn.execute(text(f'{digest} FROM "{table}" t')).one()
    return int(row[0]), str(row[1])


def verify(url: str, install: Install, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """``portal audit verify --checkpoint-dir`` as the operator runs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PORTAL_DATABASE_URL": url,
           "PORTAL_DATA_DIR": str(data_dir), "PORTAL_KEYRING_FILE": str(install.keyring),
           "PORTAL_AUDIT_SIGNING_KEY_FILE": str(install.signing_key),
           "PORTAL_AUDIT_ORIGIN": ORIGIN}
    env.pop("PORTAL_AUDIT_CHECKPOINT_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", "audit", "verify", "--quiet",
         "--checkpoint-dir", str(install.checkpoints)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def fresh_cluster() -> Iterator[PostgresServer]:
    server = PostgresServer()
    yield server
    server.stop()


def test_backup_and_restore_into_a_fresh_cluster(
        postgres: PostgresServer, postgres_url: str, fresh_cluster: PostgresServer,
        keys_dir: Path, tmp_path: Path) -> None:
    # The running installation: the demo data was sealed with keys_dir's keyring.
    source = Install.under(tmp_path / "source")
    source.keyring.parent.mkdir(mode=0o700)
    shutil.copy2(keys_dir / "keyring.json", source.keyring)
    source.signing_key.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    portal = start(postgres_url, source, tmp_path / "source" / "data")
    try:
        ib = logged_in(portal, "ib")
        minutes_id = legacy_minutes(portal, "ib", "Verslag MDO", MINUTES_TEXT)
        attachment_id = upload_new(portal, ib, ATTACHMENT, "verslag.txt")
        for path in (CASE_PATH, f"{CASE_PATH}/documents/{minutes_id}"):
            assert ib.get(path).status_code == 200
        assert sorted(source.checkpoints.glob("checkpoint-*.txt")), "checkpoints exported"

        # The backup, in the documented order, while the portal runs.
        backup = Install.under(tmp_path / "backup")
        backup.keyring.parent.mkdir(mode=0o700)
        shutil.copy2(source.keyring, backup.keyring)
        shutil.copy2(source.signing_key, backup.signing_key)
        shutil.copytree(source.checkpoints, backup.checkpoints)
        dump = postgres.dir / "portal.dump"
        database = str(make_url(postgres_url).database)
        # What the backup holds, read in the dump's own snapshot: the portal's
        # background workers may write meanwhile (a job taking its first lease
        # did, once), and stopping the portal would seal the log's tail (a
        # checkpoint the backup rightly does not have).
        looking = make_engine(postgres_url)
        try:
            with looking.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
                snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
                as_postgres(_pg_bin("pg_dump"), "-h", str(postgres.dir), "-U", "postgres",
                            "-Fc", f"--snapshot={snapshot}", "-f", str(dump), database)
                before = _contents(conn)
        finally:
            looking.dispose()
        # The blob store after the dump: it then holds every object the dump names.
        shutil.copytree(tmp_path / "source" / "data" / "blobs", tmp_path / "backup" / "blobs")
    finally:
        portal.stop()

    # The restore: a new cluster, a new data directory, the backup copied in.
    fresh_cluster.execute("CREATE DATABASE portal")
    as_postgres(_pg_bin("pg_restore"), "-h", str(fresh_cluster.dir), "-U", "postgres",
                "-d", "portal", "--exit-on-error", "--no-owner", str(dump))
    restored_url = fresh_cluster.url("portal")
    restored = Install.under(tmp_path / "restored")
    shutil.copytree(backup.keyring.parent, restored.keyring.parent)
    shutil.copytree(backup.checkpoints, restored.checkpoints)
    shutil.copytree(tmp_path / "backup" / "blobs", tmp_path / "restored" / "data" / "blobs")
    assert table_contents(restored_url) == before, "every row of every table came back"

    checked = verify(restored_url, restored, tmp_path / "restored" / "data")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "the access log is intact" in checked.stdout
    exported = len(list(restored.checkpoints.glob("checkpoint-*.txt")))
    database_checkpoints = before["audit_checkpoint"][0]
    assert f"{database_checkpoints + exported} signed checkpoints verified" in checked.stdout

    portal = start(restored_url, restored, tmp_path / "restored" / "data")
    try:
        ib = logged_in(portal, "ib")
        page = ib.get(f"{CASE_PATH}/documents/{minutes_id}")
        assert page.status_code == 200 and MINUTES_TEXT in page.text
        status, _, body, clean = stream_download(
            ib, f"{CASE_PATH}/documents/{attachment_id}/download")
        assert (status, clean, body == ATTACHMENT) == (200, True, True)
        assert ib.get(CASE_PATH).status_code == 200
    finally:
        portal.stop()

    # The database alone is not enough: without the keyring nothing decrypts.
    database_only = Install.under(tmp_path / "database-only")
    database_only.keyring.parent.mkdir(mode=0o700)
    LocalKeyFileProvider(database_only.keyring, create=True)  # a new, empty-handed keyring
    shutil.copy2(restored.signing_key, database_only.signing_key)
    portal = start(restored_url, database_only, tmp_path / "database-only" / "data")
    try:
        ib = portal.client()
        for path in ("", CASE_PATH, f"{CASE_PATH}/documents/{minutes_id}"):
            try:
                page = ib.get(path) if path else ib.login("ib")
            except httpx.HTTPError:
                continue  # today a KEK that does not fit breaks the connection (see report)
            assert page.status_code >= 500 and MINUTES_TEXT not in page.text, path
    finally:
        portal.stop()
