"""``portal keys rotate`` / ``retire`` end to end: data keys re-wrapped, ciphertext untouched."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import LargeBinary, select

import portal.models
from crypto import KeyProvider, LocalKeyFileProvider, WrappedKey
from portal.cli import main
from portal.db import make_engine, session_factory
from portal.vault import rotation
from portal.vault.models import DataKey
from tests.documents.helpers import (
    CASE_PATH,
    legacy_minutes,
    logged_in,
    stream_download,
    upload_new,
)
from tests.harness import Running
from tests.vault.softhsm import SoftHsm, prepared_database, softhsm_token


def snapshot(running: Running) -> str:
    """A digest of every ciphertext (every binary column, by row) outside the key tables
    and the access log (hashes, not ciphertext).

    Only the binary columns: the portal's background round (mail delivery, the
    access log's checkpoints, job leases) may update other rows meanwhile, which
    says nothing about the ciphertexts."""
    digest = hashlib.sha256()
    with running.portal.engine.connect() as conn:
        for table in portal.models.Base.metadata.sorted_tables:
            if table.name in {"data_key", "kek_version_state", "key_shredding",
                              "access_record", "audit_chain_head", "audit_checkpoint"}:
                continue
            binary = [c for c in table.columns if isinstance(c.type, LargeBinary)]
            if not binary:
                continue
            keys = list(table.primary_key.columns)
            for row in conn.execute(select(*keys, *binary).order_by(*keys)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def wrapped_keys(running: Running) -> dict[str, tuple[int, bytes]]:
    with running.portal.sessions() as db:
        return {k.id: (k.kek_version, k.wrapped) for k in db.scalars(select(DataKey))}


def _content(running: Running) -> tuple[str, str, bytes]:
    ib = logged_in(running, "ib")
    running.extra["client"] = ib
    minutes_id = legacy_minutes(running, "ib", "Notulen", "Versie een")
    content = b"bijlage met meerdere segmenten\n" * 10_000
    return minutes_id, upload_new(running, ib, content, "bijlage.txt"), content


def _still_readable(running: Running, minutes_id: str, file_id: str, content: bytes) -> None:
    ib = running.extra["client"]
    assert "Versie een" in ib.page(f"{CASE_PATH}/documents/{minutes_id}").text
    _, _, body, clean = stream_download(ib, f"{CASE_PATH}/documents/{file_id}/download")
    assert clean and body == content


@pytest.fixture
def local(start_portal, sqlite_url: str, keys_dir: Path, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Running:
    keyring = tmp_path / "keyring.json"
    shutil.copyfile(keys_dir / "keyring.json", keyring)
    keyring.chmod(0o600)
    for name, value in {"PORTAL_DATABASE_URL": sqlite_url, "PORTAL_DATA_DIR": str(keys_dir),
                        "PORTAL_KEYRING_FILE": str(keyring)}.items():
        monkeypatch.setenv(name, value)
    running = start_portal(sqlite_url, keyring_file=keyring)
    running.extra["keyring"] = keyring
    return running


def test_rotate_rewraps_every_key_and_leaves_ciphertext_alone(
        local: Running, capsys: pytest.CaptureFixture[str]) -> None:
    minutes_id, file_id, content = _content(local)
    before_keys, before_rows = wrapped_keys(local), snapshot(local)
    assert {v for v, _ in before_keys.values()} == {1}

    assert main(["keys", "rotate", "--batch-size", "3"]) == 0
    out, err = capsys.readouterr()
    total = len(before_keys)
    assert f"{total}/{total} data keys re-wrapped" in err and "\r[" in err
    assert "KEK version 2 is current" in out

    after_keys = wrapped_keys(local)
    assert after_keys.keys() == before_keys.keys()
    assert {v for v, _ in after_keys.values()} == {2}
    assert all(after_keys[k][1] != before_keys[k][1] for k in before_keys)
    assert snapshot(local) == before_rows, "ciphertexts byte-identical"
    _still_readable(local, minutes_id, file_id, content)

    assert main(["keys", "retire", "2"]) == 1
    assert "refused" in capsys.readouterr().err
    assert main(["keys", "retire", "1"]) == 0
    assert LocalKeyFileProvider(local.extra["keyring"], create=False).versions() == [2]
    _still_readable(local, minutes_id, file_id, content)
    # An old copy of a wrapped key (a backup) is useless once its version is retired.
    old_version, old_blob = next(iter(before_keys.values()))
    with pytest.raises(Exception, match="not available"):
        local.portal.vault.provider.unwrap(WrappedKey(old_version, old_blob))


class Interrupting:
    """A provider that stops after ``allowed`` wraps, like a rotation killed midway."""

    def __init__(self, inner: KeyProvider, allowed: int) -> None:
        self.inner, self.allowed = inner, allowed

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def wrap(self, dek: bytes) -> WrappedKey:
        if self.allowed == 0:
            raise KeyboardInterrupt
        self.allowed -= 1
        return self.inner.wrap(dek)


def test_interrupted_rotation_resumes(local: Running,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    minutes_id, file_id, content = _content(local)
    before_rows, total = snapshot(local), len(wrapped_keys(local))
    provider = LocalKeyFileProvider(local.extra["keyring"], create=False)
    sessions = session_factory(make_engine(str(local.portal.engine.url)))
    provider.rotate()
    with pytest.raises(KeyboardInterrupt):
        rotation.rewrap(sessions, Interrupting(provider, 5), batch_size=2)  # type: ignore[arg-type]
    versions = [v for v, _ in wrapped_keys(local).values()]
    assert versions.count(2) == 4 and versions.count(1) == total - 4  # two whole batches
    assert snapshot(local) == before_rows
    _still_readable(local, minutes_id, file_id, content)  # mixed versions read fine

    assert main(["keys", "retire", "1"]) == 1
    assert f"{total - 4} data key(s) are still wrapped under KEK version 1" in \
        capsys.readouterr().err
    before_rows = snapshot(local)  # reading wrote access records; the rest must stay
    assert main(["keys", "rotate", "--resume"]) == 0
    assert f"{total - 4}/{total - 4} data keys re-wrapped" in capsys.readouterr().err
    assert {v for v, _ in wrapped_keys(local).values()} == {2}
    assert provider.versions() == [1, 2], "resuming creates no new version"
    assert snapshot(local) == before_rows
    assert main(["keys", "retire", "1"]) == 0
    _still_readable(local, minutes_id, file_id, content)


def test_status(local: Running, capsys: pytest.CaptureFixture[str]) -> None:
    total = len(wrapped_keys(local))
    assert main(["keys", "status"]) == 0
    assert f"KEK version 1 (current): {total} data key(s)" in capsys.readouterr().out


@pytest.fixture(scope="module")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    if shutil.which("softhsm2-util") is None:
        pytest.skip("softhsm2-util not on PATH (install the Debian package softhsm2)")
    with softhsm_token(tmp_path_factory.mktemp("softhsm"), "mdo-rotation") as token:
        yield token


@pytest.mark.softhsm
def test_rotation_with_the_hsm(start_portal, hsm: SoftHsm, tmp_path: Path, keys_dir: Path,
                               monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    url = prepared_database(tmp_path / "portal.db", hsm)
    for name, value in {"PORTAL_DATABASE_URL": url, "PORTAL_DATA_DIR": str(keys_dir),
                        **hsm.env()}.items():
        monkeypatch.setenv(name, value)
    running = start_portal(url, **hsm.settings())
    minutes_id, file_id, content = _content(running)
    before_keys, before_rows = wrapped_keys(running), snapshot(running)

    assert main(["keys", "rotate"]) == 0
    assert "KEK version 2 is current" in capsys.readouterr().out
    assert {v for v, _ in wrapped_keys(running).values()} == {2}
    assert snapshot(running) == before_rows
    _still_readable(running, minutes_id, file_id, content)

    assert main(["keys", "retire", "1"]) == 0
    assert hsm.provider().versions() == [2], "the KEK is destroyed inside the token"
    _still_readable(running, minutes_id, file_id, content)
    old_version, old_blob = next(iter(before_keys.values()))
    with pytest.raises(Exception, match="not available"):
        hsm.provider().unwrap(WrappedKey(old_version, old_blob))
