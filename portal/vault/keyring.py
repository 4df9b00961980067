"""Choose the key-encryption-key provider from the settings; where the dev keyring lives."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from crypto import KeyProvider, LocalKeyFileProvider, SecretFileProvider

if TYPE_CHECKING:
    from portal.settings import Settings

log = logging.getLogger("portal.vault")

KEYRING_NAME = "keyring.json"


def keys_dir(settings: Settings) -> Path:
    """The keyring's own directory: never the database's, so one backup never holds both."""
    data_dir = settings.data_dir
    return settings.keys_dir or data_dir.parent / f"{data_dir.name}-keys"


def keyring_path(settings: Settings) -> Path:
    """``PORTAL_KEYRING_FILE``, else ``keyring.json`` in ``keys_dir``.

    A dev keyring left beside the default SQLite database (``<data_dir>/
    keyring.json``, where earlier versions put it) is moved to its own
    directory (0700); one kept elsewhere by configuration stays where it is.
    """
    if settings.keyring_file:
        return settings.keyring_file
    target = keys_dir(settings) / KEYRING_NAME
    legacy = settings.data_dir / KEYRING_NAME
    if target.exists() or not legacy.exists():
        return target
    beside_database = not settings.database_url
    if settings.mode != "dev" or not beside_database:
        return legacy
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(target.parent, 0o700)  # mkdir's mode is filtered by the umask
    os.replace(legacy, target)
    log.warning("moved the dev keyring from %s to %s: a backup of the database directory "
                "must not hold the keys that unwrap it", legacy, target)
    return target


def make_key_provider(settings: Settings) -> KeyProvider:
    if settings.key_provider == "pkcs11":
        from crypto.pkcs11_provider import Pkcs11Provider

        return Pkcs11Provider(settings.pkcs11_library, settings.pkcs11_token,
                              settings.pkcs11_pin)
    if settings.key_provider == "secret-file":
        return SecretFileProvider(settings.keyring_file or settings.data_dir / KEYRING_NAME)
    return LocalKeyFileProvider(keyring_path(settings), create=settings.mode == "dev")
