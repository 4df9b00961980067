"""Tests for the file-backed KEK providers and envelope helpers (crypto.keys)."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

from crypto import (
    CryptoError,
    DecryptionError,
    KeyProvider,
    KeyUnavailable,
    LocalKeyFileProvider,
    SecretFileProvider,
    WrappedKey,
    new_data_key,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _secret_file(path: Path, lines: list[str], mode: int = 0o400) -> Path:
    path.write_text("\n".join(lines) + "\n")
    path.chmod(mode)
    return path


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


@pytest.fixture
def keyring(tmp_path: Path) -> LocalKeyFileProvider:
    return LocalKeyFileProvider(tmp_path / "keys" / "keyring.json", create=True)


def test_new_data_key_is_random_and_32_bytes() -> None:
    keys = {new_data_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(len(k) == 32 for k in keys)


def test_local_keyring_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "keyring.json"
    old_umask = os.umask(0o022)
    try:
        provider = LocalKeyFileProvider(path, create=True)
    finally:
        os.umask(old_umask)
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    assert provider.versions() == [1]
    assert provider.current_version() == 1
    assert isinstance(provider, KeyProvider)
    doc = json.loads(path.read_text())
    assert doc["format"] == "mdo-keyring-v1"
    assert len(base64.b64decode(doc["keys"]["1"])) == 32
    assert [p.name for p in path.parent.iterdir()] == ["keyring.json"]


def test_wrap_unwrap_round_trip(keyring: LocalKeyFileProvider) -> None:
    dek = new_data_key()
    wrapped = keyring.wrap(dek)
    assert wrapped.kek_version == 1
    assert len(wrapped.blob) == 40
    assert dek not in wrapped.blob
    assert keyring.unwrap(wrapped) == dek


def test_missing_file_without_create(tmp_path: Path) -> None:
    with pytest.raises(KeyUnavailable, match="does not exist"):
        LocalKeyFileProvider(tmp_path / "nope.json", create=False)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o620])
def test_refuses_group_or_other_access(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "keyring.json"
    LocalKeyFileProvider(path, create=True)
    path.chmod(mode)
    with pytest.raises(KeyUnavailable, match="chmod 600"):
        LocalKeyFileProvider(path, create=False)


def test_running_provider_notices_loosened_permissions(keyring: LocalKeyFileProvider) -> None:
    dek = new_data_key()
    wrapped = keyring.wrap(dek)
    path = keyring._path
    path.chmod(0o644)
    with pytest.raises(KeyUnavailable):
        keyring.unwrap(wrapped)


def test_refuses_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    LocalKeyFileProvider(real, create=True)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    with pytest.raises(KeyUnavailable):
        LocalKeyFileProvider(link, create=False)
    with pytest.raises(KeyUnavailable):
        LocalKeyFileProvider(link, create=True)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b'{"format": "other", "keys": {"1": "AAAA"}}',
        b'{"format": "mdo-keyring-v1", "keys": {}}',
        b'{"format": "mdo-keyring-v1", "keys": {"0": "' + base64.b64encode(bytes(32)) + b'"}}',
        b'{"format": "mdo-keyring-v1", "keys": {"1": "' + base64.b64encode(bytes(16)) + b'"}}',
        b'{"format": "mdo-keyring-v1", "keys": {"01": "' + base64.b64encode(bytes(32)) + b'"}}',
        b'{"format": "mdo-keyring-v1", "keys": {"1": 5}}',
    ],
)
def test_malformed_keyring_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "keyring.json"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(KeyUnavailable) as info:
        LocalKeyFileProvider(path, create=False)
    assert "AAAA" not in str(info.value)


def test_rotate_keeps_old_versions(keyring: LocalKeyFileProvider) -> None:
    path = keyring._path
    dek1 = new_data_key()
    w1 = keyring.wrap(dek1)
    assert keyring.rotate() == 2
    assert keyring.current_version() == 2
    dek2 = new_data_key()
    w2 = keyring.wrap(dek2)
    assert w2.kek_version == 2
    assert keyring.unwrap(w1) == dek1
    assert keyring.unwrap(w2) == dek2
    assert _mode(path) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == [".keyring.json.lock", "keyring.json"]
    reopened = LocalKeyFileProvider(path, create=False)
    assert reopened.versions() == [1, 2]
    assert reopened.unwrap(w1) == dek1


def test_other_instance_sees_rotation(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    first = LocalKeyFileProvider(path, create=True)
    second = LocalKeyFileProvider(path, create=False)
    first.rotate()
    dek = new_data_key()
    wrapped = first.wrap(dek)
    assert wrapped.kek_version == 2
    assert second.unwrap(wrapped) == dek
    assert second.current_version() == 2


def test_unknown_version(keyring: LocalKeyFileProvider) -> None:
    wrapped = keyring.wrap(new_data_key())
    with pytest.raises(KeyUnavailable):
        keyring.unwrap(WrappedKey(7, wrapped.blob))


def test_retire(keyring: LocalKeyFileProvider) -> None:
    old = keyring.wrap(new_data_key())
    keyring.rotate()
    with pytest.raises(CryptoError, match="current"):
        keyring.retire(2)
    keyring.retire(1)
    assert keyring.versions() == [2]
    with pytest.raises(KeyUnavailable):
        keyring.unwrap(old)
    with pytest.raises(KeyUnavailable):
        keyring.retire(1)
    assert LocalKeyFileProvider(keyring._path, create=False).versions() == [2]
    assert keyring.rotate() == 3


def test_corrupted_blob(keyring: LocalKeyFileProvider) -> None:
    wrapped = keyring.wrap(new_data_key())
    for pos in range(len(wrapped.blob)):
        flipped = bytearray(wrapped.blob)
        flipped[pos] ^= 0x04
        with pytest.raises(DecryptionError):
            keyring.unwrap(WrappedKey(1, bytes(flipped)))
    for blob in (b"", wrapped.blob[:-8], wrapped.blob + bytes(8)):
        with pytest.raises(DecryptionError):
            keyring.unwrap(WrappedKey(1, blob))


def test_wrap_requires_32_byte_dek(keyring: LocalKeyFileProvider) -> None:
    with pytest.raises(ValueError, match="32"):
        keyring.wrap(bytes(16))


def test_concurrent_creation_agrees_on_one_keyring(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    providers: list[LocalKeyFileProvider] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        providers.append(LocalKeyFileProvider(path, create=True))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(providers) == 8
    dek = new_data_key()
    wrapped = providers[0].wrap(dek)
    assert all(p.unwrap(wrapped) == dek for p in providers)
    assert [p.name for p in tmp_path.iterdir()] == ["keyring.json"]


def test_concurrent_rotation_loses_no_version(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    LocalKeyFileProvider(path, create=True)
    providers = [LocalKeyFileProvider(path, create=False) for _ in range(6)]
    results: list[int] = []

    def rotate(p: LocalKeyFileProvider) -> None:
        results.append(p.rotate())

    threads = [threading.Thread(target=rotate, args=(p,)) for p in providers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [2, 3, 4, 5, 6, 7]
    assert LocalKeyFileProvider(path, create=False).versions() == [1, 2, 3, 4, 5, 6, 7]


def test_rfc3394_known_answer(tmp_path: Path) -> None:
    # RFC 3394 section 4.6: 256 bits of key data wrapped with a 256-bit KEK.
    kek = bytes.fromhex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")
    dek = bytes.fromhex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F")
    expected = bytes.fromhex(
        "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"
    )
    provider = SecretFileProvider(_secret_file(tmp_path / "kek", [f"1:{_b64(kek)}"]))
    assert provider.wrap(dek) == WrappedKey(1, expected)
    assert provider.unwrap(WrappedKey(1, expected)) == dek


def test_secret_file_provider(tmp_path: Path) -> None:
    k1, k3 = os.urandom(32), os.urandom(32)
    path = _secret_file(
        tmp_path / "kek",
        ["# MDO KEKs", "", f"1:{_b64(k1)}", f"  3 : {_b64(k3)}  "],
    )
    provider = SecretFileProvider(path)
    assert isinstance(provider, KeyProvider)
    assert provider.versions() == [1, 3]
    assert provider.current_version() == 3
    dek = new_data_key()
    wrapped = provider.wrap(dek)
    assert wrapped == WrappedKey(3, aes_key_wrap(k3, dek))
    assert provider.unwrap(wrapped) == dek
    old = WrappedKey(1, aes_key_wrap(k1, dek))
    assert provider.unwrap(old) == dek
    with pytest.raises(KeyUnavailable):
        provider.unwrap(WrappedKey(2, wrapped.blob))
    with pytest.raises(CryptoError, match="adding a line"):
        provider.rotate()
    with pytest.raises(CryptoError):
        provider.retire(1)


def test_secret_file_reloads_when_changed(tmp_path: Path) -> None:
    k1, k2 = os.urandom(32), os.urandom(32)
    path = _secret_file(tmp_path / "kek", [f"1:{_b64(k1)}"])
    provider = SecretFileProvider(path)
    # Kubernetes updates a mounted secret by swapping a symlink; a new inode suffices here.
    new = _secret_file(tmp_path / "kek.new", [f"1:{_b64(k1)}", f"2:{_b64(k2)}"])
    new.replace(path)
    assert provider.current_version() == 2
    dek = new_data_key()
    assert provider.unwrap(WrappedKey(2, aes_key_wrap(k2, dek))) == dek


def test_secret_file_via_symlink_and_group_read(tmp_path: Path) -> None:
    target = _secret_file(tmp_path / "..data-kek", [f"1:{_b64(os.urandom(32))}"], mode=0o440)
    link = tmp_path / "kek"
    link.symlink_to(target)
    assert SecretFileProvider(link).versions() == [1]


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o460, 0o600 | 0o004])
def test_secret_file_refuses_loose_permissions(tmp_path: Path, mode: int) -> None:
    path = _secret_file(tmp_path / "kek", [f"1:{_b64(os.urandom(32))}"], mode=mode)
    with pytest.raises(KeyUnavailable, match="mode"):
        SecretFileProvider(path)


@pytest.mark.parametrize(
    "lines",
    [
        [],
        ["# only a comment"],
        ["1"],
        ["x:" + _b64(bytes(32))],
        ["0:" + _b64(bytes(32))],
        ["1:" + _b64(bytes(31))],
        ["1:not base64!"],
        ["1:" + _b64(bytes(32)), "1:" + _b64(bytes(32))],
    ],
)
def test_secret_file_malformed(tmp_path: Path, lines: list[str]) -> None:
    path = _secret_file(tmp_path / "kek", lines)
    with pytest.raises(KeyUnavailable) as info:
        SecretFileProvider(path)
    assert _b64(bytes(32)) not in str(info.value)


def test_secret_file_missing(tmp_path: Path) -> None:
    with pytest.raises(KeyUnavailable, match="does not exist"):
        SecretFileProvider(tmp_path / "absent")


def test_secret_file_removed_after_start(tmp_path: Path) -> None:
    path = _secret_file(tmp_path / "kek", [f"1:{_b64(os.urandom(32))}"])
    provider = SecretFileProvider(path)
    path.unlink()
    with pytest.raises(KeyUnavailable):
        provider.wrap(new_data_key())
