"""The dev keyring lives outside the database's directory, so one backup never holds both."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from crypto import LocalKeyFileProvider
from portal.settings import Settings, SettingsError
from portal.settings_env import load_settings
from portal.vault.keyring import keyring_path, make_key_provider


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_fresh_dev_keyring_gets_its_own_directory(tmp_path: Path) -> None:
    settings = Settings(mode="dev", data_dir=tmp_path / "var")
    provider = make_key_provider(settings)
    assert provider.versions() == [1]
    keyring = tmp_path / "var-keys" / "keyring.json"
    assert keyring.is_file() and _mode(keyring) == 0o600
    assert _mode(keyring.parent) == 0o700
    assert not (tmp_path / "var" / "keyring.json").exists()
    # Idempotent: the next start finds the same keyring.
    assert keyring_path(settings) == keyring
    assert make_key_provider(settings).versions() == [1]


def test_keyring_beside_the_dev_database_is_moved_out(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    legacy = data_dir / "keyring.json"
    LocalKeyFileProvider(legacy, create=True)
    before = json.loads(legacy.read_text())
    settings = Settings(mode="dev", data_dir=data_dir)
    moved = keyring_path(settings)
    assert moved == tmp_path / "var-keys" / "keyring.json"
    assert not legacy.exists() and json.loads(moved.read_text()) == before
    assert _mode(moved.parent) == 0o700


def test_configured_places_are_respected(tmp_path: Path) -> None:
    own = tmp_path / "elsewhere" / "ring.json"
    assert keyring_path(Settings(mode="dev", data_dir=tmp_path, keyring_file=own)) == own
    keys = tmp_path / "keys"
    assert keyring_path(Settings(mode="dev", data_dir=tmp_path / "var", keys_dir=keys)) \
        == keys / "keyring.json"
    # A database elsewhere: an existing keyring in the data directory is not beside it.
    data_dir = tmp_path / "data"
    LocalKeyFileProvider(data_dir / "keyring.json", create=True)
    settings = Settings(mode="dev", data_dir=data_dir, database_url="sqlite:////tmp/x.db")
    assert keyring_path(settings) == data_dir / "keyring.json"


def test_epoch_and_keys_dir_settings() -> None:
    assert load_settings({}).erasure_epoch_days == 30
    loaded = load_settings({"PORTAL_ERASURE_EPOCH_DAYS": "7", "PORTAL_KEYS_DIR": "/srv/keys"})
    assert (loaded.erasure_epoch_days, loaded.keys_dir) == (7, Path("/srv/keys"))
    for bad in ("0", "400", "x"):
        with pytest.raises(SettingsError, match="PORTAL_ERASURE_EPOCH_DAYS"):
            load_settings({"PORTAL_ERASURE_EPOCH_DAYS": bad})
