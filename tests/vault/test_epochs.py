"""Key epochs: after an erasure, no backup taken before it can unwrap the erased keys.

On SoftHSM2, as in production: erase → ``portal keys epoch`` (rotate, re-wrap,
retire) → restore a backup taken before the erasure → the erased document
stays undecryptable while the living ones decrypt (their keys carried
forward from the newer copy). On PostgreSQL the backup is a real ``pg_dump``
(custom format, the cluster's own binaries) restored with ``pg_restore`` into
a fresh database, as an operator would.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import StartPortal
from crypto import KeyUnavailable, LocalKeyFileProvider, WrappedKey
from portal import demo
from portal.cli import main
from portal.db import make_engine, session_factory, unit_of_work
from portal.documents.models import DocumentVersion
from portal.migrate import upgrade
from portal.vault import epochs
from portal.vault.models import DataKey, KeyShredding
from portal.vault.service import Vault
from tests.documents.helpers import (
    CASE_PATH,
    legacy_minutes,
    logged_in,
    stream_download,
    upload_new,
)
from tests.harness import PostgresServer, Running, _pg_bin
from tests.vault.softhsm import SoftHsm, prepared_database, softhsm_token

ERASED = b"het verslag dat gewist wordt\n" * 5_000
LIVING = b"het verslag dat blijft\n" * 5_000


@pytest.fixture
def hsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    """A token of its own per test: an epoch destroys KEK versions for good."""
    if shutil.which("softhsm2-util") is None:
        pytest.skip("softhsm2-util not on PATH (install the Debian package softhsm2)")
    label = f"mdo-epochs-{uuid.uuid4().hex[:8]}"
    with softhsm_token(tmp_path_factory.mktemp("softhsm"), label) as token:
        yield token


def key_of(running: Running, document_id: str) -> WrappedKey:
    with running.portal.sessions() as db:
        key_id = db.scalars(select(DocumentVersion.data_key_id)
                            .where(DocumentVersion.document_id == document_id)).one()
        key = db.get_one(DataKey, key_id)
        return WrappedKey(key.kek_version, key.wrapped)


class Store:
    """The database on one engine: prepared under the HSM's KEK, backed up, restored."""

    def __init__(self, engine: str, tmp_path: Path, hsm: SoftHsm,
                 request: pytest.FixtureRequest) -> None:
        self.engine, self.tmp_path = engine, tmp_path
        if engine == "sqlite":
            self.url = prepared_database(tmp_path / "portal.db", hsm)
            return
        self.postgres = request.getfixturevalue("postgres")
        self.live = f"e_{uuid.uuid4().hex[:12]}"
        self.postgres.execute(f"CREATE DATABASE {self.live}")
        self.url = self.postgres.url(self.live)
        engine_ = make_engine(self.url)
        upgrade(engine_)
        with unit_of_work(session_factory(engine_)) as db:
            demo.load(db, Vault(hsm.provider()), datetime.now(UTC))
        engine_.dispose()

    def backup(self, running: Running) -> str:
        """A copy of the database as it is now (SQLite's backup API; ``pg_dump -Fc``)."""
        if self.engine == "sqlite":
            target = self.tmp_path / "before-erasure.db"
            source_file = Path(self.url.removeprefix("sqlite:///"))
            with sqlite3.connect(source_file) as source, sqlite3.connect(target) as copy:
                source.backup(copy)
            source.close()
            copy.close()
            return str(target)
        target = self.tmp_path / "before-erasure.dump"
        dump = _pg_tool(self.postgres, "pg_dump", "--format=custom", self.live)
        assert dump.startswith(b"PGDMP"), "a custom-format archive, as pg_restore reads"
        target.write_bytes(dump)
        return str(target)

    def restore(self, backup: str) -> str:
        if self.engine == "sqlite":
            restored = self.tmp_path / "restored.db"
            shutil.copyfile(backup, restored)
            return f"sqlite:///{restored}"
        name = f"r_{uuid.uuid4().hex[:12]}"
        self.postgres.execute(f"CREATE DATABASE {name}")  # fresh and empty
        _pg_tool(self.postgres, "pg_restore", "--exit-on-error", "--no-owner",
                 "--dbname", name, stdin=Path(backup).read_bytes())
        return str(self.postgres.url(name))


def _pg_tool(postgres: PostgresServer, tool: str, *args: str, stdin: bytes | None = None
             ) -> bytes:
    """Run one of the cluster's own client binaries (``pg_dump``, ``pg_restore``) against
    it; the dump travels over stdin/stdout, so the postgres user needs no file access."""
    cmd: tuple[str, ...] = (_pg_bin(tool), "-h", str(postgres.dir), "-U", "postgres", *args)
    if os.geteuid() == 0:  # the cluster runs as postgres (see PostgresServer)
        cmd = ("runuser", "-u", "postgres", "--", *cmd)
    return subprocess.run(cmd, check=True, capture_output=True, input=stdin).stdout


@pytest.mark.softhsm
@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_erasure_outlives_a_restored_backup(start_portal: StartPortal, hsm: SoftHsm, tmp_path: Path,
                                            keys_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str], engine: str,
                                            request: pytest.FixtureRequest) -> None:
    store = Store(engine, tmp_path, hsm, request)
    url = store.url
    for name, value in {"PORTAL_DATABASE_URL": url, "PORTAL_DATA_DIR": str(keys_dir),
                        **hsm.env()}.items():
        monkeypatch.setenv(name, value)
    running = start_portal(url, **hsm.settings())
    ib = logged_in(running, "ib")
    erased = upload_new(running, ib, ERASED, "gewist.txt")
    living = upload_new(running, ib, LIVING, "blijft.txt")
    minutes = legacy_minutes(running, "ib", "Notulen", "Blijft leesbaar")
    erased_key = key_of(running, erased)
    old_backup = store.backup(running)

    assert ib.submit(f"{CASE_PATH}/documents/{erased}/erase",
                     {"confirm": "on"}).status_code == 200
    # Gone from the live database, but a backup copy still unwraps: the debt is shown.
    assert hsm.provider().unwrap(erased_key)
    assert main(["keys", "status"]) == 0
    status = capsys.readouterr().out
    assert "still recoverable from backups taken before the erasure: 1 erasure(s)" in status
    assert main(["keys", "epoch"]) == 0  # from cron: not due yet, nothing changes
    assert "nothing due" in capsys.readouterr().out
    assert hsm.provider().versions() == [1]

    assert main(["keys", "epoch", "--now"]) == 0
    out = capsys.readouterr().out
    assert "KEK version 2 is current" in out and "retired KEK version(s): 1" in out
    assert hsm.provider().versions() == [2], "the old KEK is destroyed inside the token"
    with pytest.raises(KeyUnavailable):
        hsm.provider().unwrap(erased_key)
    assert main(["keys", "status"]) == 0
    assert "nothing outstanding" in capsys.readouterr().out
    assert main(["keys", "epoch"]) == 0  # idempotent
    assert "nothing due" in capsys.readouterr().out and hsm.provider().versions() == [2]

    # Disaster: the old backup is restored; the living keys come from the newer copy.
    restored = store.restore(old_backup)
    monkeypatch.setenv("PORTAL_DATABASE_URL", restored)
    assert main(["keys", "carry-forward", url]) == 0
    assert "1 erased since this backup stay unrecoverable" in capsys.readouterr().out
    again = start_portal(restored, **hsm.settings())
    reader = logged_in(again, "ib")
    status_code, _, body, clean = stream_download(
        reader, f"{CASE_PATH}/documents/{living}/download")
    assert (status_code, clean, body == LIVING) == (200, True, True)
    assert "Blijft leesbaar" in reader.page(f"{CASE_PATH}/documents/{minutes}").text
    # The erased document is back in the restored rows, but nothing can unwrap its key.
    assert key_of(again, erased) == erased_key
    with pytest.raises(KeyUnavailable):
        again.portal.vault.provider.unwrap(erased_key)
    response = reader.get(f"{CASE_PATH}/documents/{erased}/download")
    assert response.status_code == 503 and b"verslag" not in response.content


@pytest.fixture
def local(database_url: str, keys_dir: Path, tmp_path: Path) -> tuple[str, Path]:
    keyring = tmp_path / "keyring.json"
    shutil.copyfile(keys_dir / "keyring.json", keyring)
    keyring.chmod(0o600)
    return database_url, keyring


def test_epoch_runs_once_due_and_clears_only_what_it_covers(
        local: tuple[str, Path]) -> None:
    url, keyring = local
    provider = LocalKeyFileProvider(keyring, create=False)
    engine = make_engine(url)
    sessions = session_factory(engine)
    vault = Vault(provider)
    with sessions() as db, db.begin():
        (first,) = db.scalars(select(DataKey.id).limit(1)).all()
        erased_at = db.get_one(DataKey, first).created_at + timedelta(days=1)
        vault.destroy(db, [first], erased_at)
    with sessions() as db:
        pending = epochs.outstanding(db, 30)
    assert (pending.erasures, pending.keys, pending.newest_kek_version) == (1, 1, 1)
    assert pending.deadline == erased_at + timedelta(days=30)

    assert not epochs.run(sessions, provider, erased_at + timedelta(days=28), 30).ran
    assert provider.versions() == [1]
    result = epochs.run(sessions, provider, erased_at + timedelta(days=29), 30)
    assert (result.ran, result.kek_version, result.retired, result.cleared) == (True, 2, (1,), 1)
    assert provider.versions() == [2]
    with sessions() as db:
        assert db.scalar(select(KeyShredding.cleared_at)) == erased_at + timedelta(days=29)
        # An erasure under the new version waits for the next epoch.
        (second,) = db.scalars(select(DataKey.id).limit(1)).all()
    with sessions() as db, db.begin():
        vault.destroy(db, [second], erased_at + timedelta(days=30))
    with sessions() as db:
        assert epochs.outstanding(db, 30).newest_kek_version == 2
    assert not epochs.run(sessions, provider, erased_at + timedelta(days=31), 30).ran
    forced = epochs.run(sessions, provider, erased_at + timedelta(days=31), 30, force=True)
    assert (forced.kek_version, forced.retired, forced.cleared) == (3, (2,), 1)
    engine.dispose()
