"""No key-encryption key, no content: reads answer 503, writes store nothing, never plaintext."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.audit.models import AccessRecord
from tests.documents.helpers import (
    CASE_PATH,
    counts,
    legacy_minutes,
    logged_in,
    stream_download,
    upload,
    upload_new,
)
from tests.documents.test_upload_phases import (
    SLOW_UPLOAD_TAIL,
    SLOW_UPLOAD_TYPE,
    slow_upload_head,
    wait_for_pending,
)
from tests.harness import Running
from tests.vault.softhsm import SoftHsm, prepared_database, softhsm_token


def _assert_keys_needed_everywhere(running: Running, minutes_id: str, file_id: str,
                                   content: bytes) -> None:
    ib = running.extra["client"]
    before = counts(running)
    refused_upload = upload(ib, b"geheim verslag", "nieuw.txt")
    assert refused_upload.status_code == 503
    assert "geheim" not in refused_upload.text
    assert counts(running) == before, "nothing stored, not even unencrypted"
    for path in (f"{CASE_PATH}/documents/{minutes_id}", f"{CASE_PATH}/documents/{file_id}",
                 f"{CASE_PATH}/documents/{file_id}/download", CASE_PATH):
        response = ib.get(path)
        assert response.status_code == 503, path
        assert "tijdelijk niet beschikbaar" in response.text
        assert b"Versie een" not in response.content and content not in response.content


def _store_some(running: Running) -> tuple[str, str, bytes]:
    ib = logged_in(running, "ib")
    running.extra["client"] = ib
    minutes_id = legacy_minutes(running, "ib", "Notulen", "Versie een")
    content = b"bijlage\n" * 20_000
    file_id = upload_new(running, ib, content, "bijlage.txt")
    return minutes_id, file_id, content


def test_missing_key_file(start_portal, sqlite_url: str, keys_dir: Path,
                          tmp_path: Path) -> None:
    keyring = tmp_path / "keyring.json"
    shutil.copyfile(keys_dir / "keyring.json", keyring)
    keyring.chmod(0o600)
    running = start_portal(sqlite_url, keyring_file=keyring)
    minutes_id, file_id, content = _store_some(running)

    keyring.rename(tmp_path / "elsewhere.json")
    _assert_keys_needed_everywhere(running, minutes_id, file_id, content)

    (tmp_path / "elsewhere.json").rename(keyring)
    _, _, body, clean = stream_download(running.extra["client"],
                                        f"{CASE_PATH}/documents/{file_id}/download")
    assert clean and body == content


def test_unsafe_key_file_permissions(start_portal, sqlite_url: str, keys_dir: Path,
                                     tmp_path: Path) -> None:
    keyring = tmp_path / "keyring.json"
    shutil.copyfile(keys_dir / "keyring.json", keyring)
    keyring.chmod(0o600)
    running = start_portal(sqlite_url, keyring_file=keyring)
    minutes_id, file_id, content = _store_some(running)
    keyring.chmod(0o644)  # readable by others: the provider refuses it
    _assert_keys_needed_everywhere(running, minutes_id, file_id, content)


@pytest.fixture(scope="module")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    if shutil.which("softhsm2-util") is None:
        pytest.skip("softhsm2-util not on PATH (install the Debian package softhsm2)")
    with softhsm_token(tmp_path_factory.mktemp("softhsm"), "mdo-docs-unavailable") as token:
        yield token


@pytest.mark.softhsm
# python-pkcs11 finalises a search of the session that the restart invalidated.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_hsm_down_mid_run(start_portal, hsm: SoftHsm, tmp_path: Path) -> None:
    url = prepared_database(tmp_path / "portal.db", hsm)
    running = start_portal(url, **hsm.settings())
    minutes_id, file_id, content = _store_some(running)
    hsm.down()
    try:
        _assert_keys_needed_everywhere(running, minutes_id, file_id, content)
    finally:
        hsm.up()
    ib = running.extra["client"]
    _, _, body, clean = stream_download(ib, f"{CASE_PATH}/documents/{file_id}/download")
    assert clean and body == content
    assert upload(ib, b"weer beschikbaar", "terug.txt").status_code == 200


@pytest.mark.softhsm
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_hsm_down_mid_upload(start_portal, hsm: SoftHsm, tmp_path: Path) -> None:
    url = prepared_database(tmp_path / "portal.db", hsm)
    running = start_portal(url, **hsm.settings())
    ib = logged_in(running, "ib")
    before = counts(running)
    chunk = b"een verslag dat halverwege zijn sleutel verliest\n" * 6000

    def body() -> Iterator[bytes]:
        yield slow_upload_head(ib.csrf)
        for number in range(6):
            if number == 3:
                # Phase 1 (decision, record, wrapped key) has committed: now the HSM goes.
                assert wait_for_pending(running)
                hsm.down()
            yield chunk
        yield SLOW_UPLOAD_TAIL

    try:
        response = ib.post(f"{CASE_PATH}/documents", content=body(),
                           headers={"Content-Type": SLOW_UPLOAD_TYPE})
        assert response.status_code == 503
        assert b"verliest" not in response.content
        assert counts(running) == before, "no rows, no orphaned key"
    finally:
        hsm.up()
    with running.portal.sessions() as db:
        outcomes = list(db.execute(select(AccessRecord.outcome, AccessRecord.reason).where(
            AccessRecord.event_type == "document.upload").order_by(AccessRecord.seq)))
    assert [tuple(o) for o in outcomes] == [("allowed", None), ("failed", "failed")]
    assert upload(ib, b"weer beschikbaar", "terug.txt").status_code == 200
