"""Cryptography for the MDO Portal: KEK providers, record and attachment encryption.

Layers:

* ``keys`` / ``pkcs11_provider``: versioned key-encryption keys (``KeyProvider``)
  that wrap random per-object data keys (``new_data_key``) -- envelope encryption.
* ``record``: AES-256-GCM for small fields, bound to their location (``Binding``).
* ``stream``: attachments in Google Tink's AES-GCM-HKDF streaming format.

This package depends only on the standard library and ``cryptography``
(``python-pkcs11`` is imported lazily by ``Pkcs11Provider``); it must never
import application packages. Every error derives from ``CryptoError`` and is
safe to log.
"""

from crypto.errors import CryptoError, DecryptionError, KeyUnavailable
from crypto.keys import (
    KeyProvider,
    LocalKeyFileProvider,
    SecretFileProvider,
    WrappedKey,
    new_data_key,
)
from crypto.pkcs11_provider import Pkcs11Provider
from crypto.record import Binding, decrypt_record, encrypt_record, record_dek_id
from crypto.stream import (
    DEFAULT_SEGMENT_SIZE,
    StreamEncryptor,
    decrypt_stream,
    decrypt_stream_exact,
)

__all__ = [
    "DEFAULT_SEGMENT_SIZE",
    "Binding",
    "CryptoError",
    "DecryptionError",
    "KeyProvider",
    "KeyUnavailable",
    "LocalKeyFileProvider",
    "Pkcs11Provider",
    "SecretFileProvider",
    "StreamEncryptor",
    "WrappedKey",
    "decrypt_record",
    "decrypt_stream",
    "decrypt_stream_exact",
    "encrypt_record",
    "new_data_key",
    "record_dek_id",
]
