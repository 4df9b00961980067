"""Choose the key-encryption-key provider from the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crypto import KeyProvider, LocalKeyFileProvider, SecretFileProvider

if TYPE_CHECKING:
    from portal.settings import Settings


def make_key_provider(settings: Settings) -> KeyProvider:
    if settings.key_provider == "pkcs11":
        from crypto.pkcs11_provider import Pkcs11Provider

        return Pkcs11Provider(settings.pkcs11_library, settings.pkcs11_token,
                              settings.pkcs11_pin)
    path = settings.keyring_file or settings.data_dir / "keyring.json"
    if settings.key_provider == "secret-file":
        return SecretFileProvider(path)
    return LocalKeyFileProvider(path, create=settings.mode == "dev")
