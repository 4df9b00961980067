"""The blob store settings: defaults, secrets from files, and what production refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.app import prepare_settings
from portal.documents.blobs import DirBlobStore, S3BlobStore, make_blob_stores
from portal.settings import SettingsError
from portal.settings_env import load_settings
from tests.test_settings import production


def test_the_directory_under_the_data_dir_is_the_default(tmp_path: Path) -> None:
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path)})
    assert settings.blob_store == "dir" and settings.effective_blob_dir == tmp_path / "blobs"
    blobs = make_blob_stores(settings)
    assert isinstance(blobs.target, DirBlobStore) and blobs.kinds() == ["dir"]


def test_s3_credentials_come_from_secret_files(tmp_path: Path) -> None:
    key_id, secret = tmp_path / "s3-key-id", tmp_path / "s3-secret"
    key_id.write_text("AKIDFROMFILE\n")
    secret.write_text("s3cr3t-from-a-file\n")
    settings = load_settings({
        "PORTAL_BLOB_STORE": "s3", "PORTAL_S3_BUCKET": "mdo", "PORTAL_S3_PREFIX": "portal/",
        "PORTAL_S3_ENDPOINT": "https://s3.example", "PORTAL_S3_REGION": "eu-west-1",
        "PORTAL_S3_ACCESS_KEY_ID_FILE": str(key_id),
        "PORTAL_S3_SECRET_ACCESS_KEY_FILE": str(secret)})
    assert (settings.s3_access_key_id, settings.s3_secret_access_key) == \
        ("AKIDFROMFILE", "s3cr3t-from-a-file")
    store = make_blob_stores(settings).target
    assert isinstance(store, S3BlobStore) and store.prefix == "portal/"


@pytest.mark.parametrize(("env", "problem"), [
    ({"PORTAL_BLOB_STORE": "ftp"}, "PORTAL_BLOB_STORE must be dir, s3 or database"),
    ({"PORTAL_BLOB_STORE": "s3"}, "needs PORTAL_S3_BUCKET"),
])
def test_bad_blob_settings_are_named(env: dict[str, str], problem: str) -> None:
    with pytest.raises(SettingsError, match=problem):
        load_settings(env)


def test_production_refuses_a_plain_http_object_store(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PORTAL_S3_ENDPOINT is not https"):
        prepare_settings(load_settings(production(
            tmp_path, PORTAL_BLOB_STORE="s3", PORTAL_S3_BUCKET="mdo",
            PORTAL_S3_ENDPOINT="http://minio.internal:9000")))
    settings = prepare_settings(load_settings(production(
        tmp_path, PORTAL_BLOB_STORE="s3", PORTAL_S3_BUCKET="mdo",
        PORTAL_S3_ENDPOINT="https://minio.internal")))
    assert settings.blob_store == "s3"
