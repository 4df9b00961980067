"""Tests for Pkcs11Provider against a throwaway SoftHSM2 token."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

from crypto import (
    CryptoError,
    DecryptionError,
    KeyProvider,
    KeyUnavailable,
    Pkcs11Provider,
    WrappedKey,
    new_data_key,
)

if TYPE_CHECKING:
    from pkcs11 import Session

pytestmark = [
    pytest.mark.softhsm,
    pytest.mark.skipif(
        shutil.which("softhsm2-util") is None,
        reason="softhsm2-util not on PATH (install the Debian package softhsm2)",
    ),
]

LIB = os.environ.get("SOFTHSM2_LIB", "/usr/lib/softhsm/libsofthsm2.so")
TOKEN = "mdo-test"
PIN_TOKEN = "mdo-pin-test"  # never logged in, for the wrong-PIN test
PIN = "1234"


@pytest.fixture(scope="module")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh SoftHSM2 token in a temp dir; yields the library path."""
    import pkcs11

    base = tmp_path_factory.mktemp("softhsm")
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOFTHSM2_CONF", str(conf))
        for label in (TOKEN, PIN_TOKEN):
            subprocess.run(
                [
                    "softhsm2-util",
                    "--init-token",
                    "--free",
                    "--label",
                    label,
                    "--pin",
                    PIN,
                    "--so-pin",
                    "5678",
                ],
                check=True,
                capture_output=True,
            )
        # SoftHSM reads its config in C_Initialize; start clean in case the
        # library was already initialised in this process with another config.
        pkcs11.lib(LIB).reinitialize()
        yield LIB
    pkcs11.lib(LIB).reinitialize()


@pytest.fixture(scope="module")
def provider(softhsm: str) -> Iterator[Pkcs11Provider]:
    p = Pkcs11Provider(softhsm, TOKEN, PIN)
    assert p.versions() == []
    with pytest.raises(KeyUnavailable, match="rotate"):
        p.current_version()
    with pytest.raises(KeyUnavailable):
        p.wrap(new_data_key())
    assert p.rotate() == 1
    yield p
    p.close()


def _token_session(lib_path: str) -> Session:
    """An independent R/W session; it relies on the provider's (per-process) login."""
    import pkcs11

    return pkcs11.lib(lib_path).get_token(token_label=TOKEN).open(rw=True)


def test_wrap_unwrap_round_trip(provider: Pkcs11Provider) -> None:
    assert isinstance(provider, KeyProvider)
    dek = new_data_key()
    wrapped = provider.wrap(dek)
    assert wrapped.kek_version == provider.current_version()
    assert len(wrapped.blob) == 40
    assert dek not in wrapped.blob
    assert provider.unwrap(wrapped) == dek
    assert provider.wrap(dek) == wrapped  # RFC 3394 is deterministic


def test_kek_is_sensitive_and_non_extractable(softhsm: str, provider: Pkcs11Provider) -> None:
    from pkcs11 import Attribute, KeyType, ObjectClass
    from pkcs11.exceptions import AttributeSensitive

    session = _token_session(softhsm)
    try:
        keys = list(session.get_objects({Attribute.LABEL: "mdo-kek-v1"}))
        assert len(keys) == 1
        kek = keys[0]
        assert kek[Attribute.CLASS] == ObjectClass.SECRET_KEY
        assert kek[Attribute.KEY_TYPE] == KeyType.AES
        assert kek[Attribute.VALUE_LEN] == 32
        assert kek[Attribute.TOKEN] is True
        assert kek[Attribute.PRIVATE] is True
        assert kek[Attribute.SENSITIVE] is True
        assert kek[Attribute.ALWAYS_SENSITIVE] is True
        assert kek[Attribute.EXTRACTABLE] is False
        assert kek[Attribute.NEVER_EXTRACTABLE] is True
        assert kek[Attribute.WRAP] is True
        assert kek[Attribute.UNWRAP] is True
        assert kek[Attribute.ENCRYPT] is False
        assert kek[Attribute.DECRYPT] is False
        with pytest.raises(AttributeSensitive):
            kek[Attribute.VALUE]
    finally:
        session.close()


def test_no_transient_dek_objects_left_behind(provider: Pkcs11Provider) -> None:
    from pkcs11 import Attribute

    provider.unwrap(provider.wrap(new_data_key()))
    leftovers = provider._run(lambda s: [o for o in s.get_objects() if o[Attribute.TOKEN] is False])
    assert leftovers == []


def test_rotate_keeps_old_deks(provider: Pkcs11Provider) -> None:
    before = provider.current_version()
    dek_old = new_data_key()
    old = provider.wrap(dek_old)
    new_version = provider.rotate()
    assert new_version == before + 1
    assert provider.current_version() == new_version
    assert provider.versions()[-2:] == [before, new_version]
    dek_new = new_data_key()
    new = provider.wrap(dek_new)
    assert new.kek_version == new_version
    assert provider.unwrap(old) == dek_old
    assert provider.unwrap(new) == dek_new
    # A second provider instance (another worker) sees the same keyring.
    other = Pkcs11Provider(LIB, TOKEN, PIN)
    try:
        assert other.unwrap(old) == dek_old
        assert other.current_version() == new_version
    finally:
        other.close()


def test_unknown_version_and_retire(provider: Pkcs11Provider) -> None:
    dek = new_data_key()
    wrapped = provider.wrap(dek)
    with pytest.raises(KeyUnavailable):
        provider.unwrap(WrappedKey(999, wrapped.blob))
    with pytest.raises(CryptoError, match="current"):
        provider.retire(provider.current_version())
    provider.rotate()
    provider.retire(wrapped.kek_version)
    assert wrapped.kek_version not in provider.versions()
    with pytest.raises(KeyUnavailable):
        provider.unwrap(wrapped)
    with pytest.raises(KeyUnavailable):
        provider.retire(wrapped.kek_version)


def test_corrupted_blob(provider: Pkcs11Provider) -> None:
    wrapped = provider.wrap(new_data_key())
    for pos in (0, 7, 8, 20, 39):
        flipped = bytearray(wrapped.blob)
        flipped[pos] ^= 0x10
        with pytest.raises(DecryptionError):
            provider.unwrap(WrappedKey(wrapped.kek_version, bytes(flipped)))
    for blob in (b"", wrapped.blob[:32], wrapped.blob + bytes(8)):
        with pytest.raises(DecryptionError):
            provider.unwrap(WrappedKey(wrapped.kek_version, blob))
    # The provider is still healthy afterwards.
    dek = new_data_key()
    assert provider.unwrap(provider.wrap(dek)) == dek


def test_same_format_as_software_providers(softhsm: str) -> None:
    """A known KEK imported into the token wraps exactly like cryptography's aes_key_wrap."""
    from pkcs11 import Attribute, KeyType, ObjectClass

    kek = os.urandom(32)
    session = _token_session(softhsm)
    try:
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.SECRET_KEY,
                Attribute.KEY_TYPE: KeyType.AES,
                Attribute.VALUE: kek,
                Attribute.TOKEN: False,
                Attribute.LABEL: "compat-v1",
                Attribute.WRAP: True,
                Attribute.UNWRAP: True,
            }
        )
        compat = Pkcs11Provider(softhsm, TOKEN, PIN, key_label="compat")
        # Session objects are visible only to sessions of the same application.
        dek = new_data_key()
        wrapped = compat.wrap(dek)
        assert wrapped == WrappedKey(1, aes_key_wrap(kek, dek))
        assert compat.unwrap(wrapped) == dek
        compat.close()
    finally:
        session.close()


def test_thread_safety(provider: Pkcs11Provider) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                dek = new_data_key()
                assert provider.unwrap(provider.wrap(dek)) == dek
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_wrong_library_path(softhsm: str) -> None:
    broken = Pkcs11Provider("/nonexistent/libpkcs11.so", TOKEN, PIN)
    with pytest.raises(KeyUnavailable):
        broken.wrap(new_data_key())
    with pytest.raises(KeyUnavailable):
        broken.current_version()


def test_missing_token(softhsm: str) -> None:
    missing = Pkcs11Provider(softhsm, "no-such-token", PIN)
    with pytest.raises(KeyUnavailable, match="not found"):
        missing.unwrap(WrappedKey(1, bytes(40)))


def test_wrong_pin_is_not_retried(softhsm: str) -> None:
    wrong = Pkcs11Provider(softhsm, PIN_TOKEN, "9876-wrong")
    with pytest.raises(KeyUnavailable) as first:
        wrong.current_version()
    assert "9876-wrong" not in str(first.value)
    assert "9876-wrong" not in repr(wrong)
    with pytest.raises(KeyUnavailable, match="not retrying"):
        wrong.current_version()


def test_instances_share_login_and_survive_close(softhsm: str, provider: Pkcs11Provider) -> None:
    other = Pkcs11Provider(softhsm, TOKEN, PIN)
    dek = new_data_key()
    wrapped = provider.wrap(dek)
    assert other.unwrap(wrapped) == dek
    provider.close()  # logs the process out of the token
    assert other.unwrap(wrapped) == dek
    assert provider.unwrap(other.wrap(dek)) == dek


# python-pkcs11 0.10 retries C_FindObjectsFinal in __del__ of a search whose session
# died, which only produces an "exception ignored" message; the recovery is ours.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_session_recovers_after_library_reinitialisation(
    softhsm: str, provider: Pkcs11Provider
) -> None:
    import pkcs11

    dek = new_data_key()
    wrapped = provider.wrap(dek)
    pkcs11.lib(softhsm).reinitialize()  # invalidates every open session
    assert provider.unwrap(wrapped) == dek


def test_dek_length_checked_before_touching_token(provider: Pkcs11Provider) -> None:
    with pytest.raises(ValueError, match="32"):
        provider.wrap(bytes(16))
