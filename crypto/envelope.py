"""Key-encryption keys (KEKs) and envelope encryption of data keys (DEKs).

Model: every protected object is encrypted under a random 256-bit data key
(``new_data_key``). A DEK is only ever stored wrapped (``WrappedKey``) by a
versioned KEK held by a ``KeyProvider``. ``rotate`` adds a new KEK version that
becomes current; older versions keep unwrapping until ``retire`` removes them,
which the caller may only do after re-wrapping every DEK that used them.

Wrap mechanism: AES key wrap without padding (RFC 3394, NIST SP 800-38F "KW")
under a 256-bit KEK, for every provider, chosen over AES-GCM because:

* it is deterministic and nonce-free, so there is no nonce to manage and no
  per-KEK usage limit (random 96-bit GCM nonces cap a key at ~2**32 wraps);
* HSMs implement it natively (``CKM_AES_KEY_WRAP``), so the software providers
  and ``Pkcs11Provider`` emit the same blob format (a 32-byte DEK wraps to 40
  bytes) and a software KEK could be imported into an HSM without re-wrapping;
* its 64-bit integrity check suffices for wrapping uniformly random keys.

DEKs are always exactly 32 bytes, so RFC 5649 padding is never needed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from crypto.errors import DecryptionError

__all__ = [
    "DEK_SIZE",
    "KEK_SIZE",
    "WRAPPED_DEK_SIZE",
    "KeyProvider",
    "WrappedKey",
    "check_dek",
    "check_wrapped",
    "new_data_key",
]

DEK_SIZE = 32
KEK_SIZE = 32
WRAPPED_DEK_SIZE = DEK_SIZE + 8


@dataclass(frozen=True)
class WrappedKey:
    """A DEK wrapped under KEK version ``kek_version``.

    Contract: safe to store next to the data it protects; reveals nothing about
    the DEK. ``blob`` is an RFC 3394 AES-KW output (40 bytes for a 32-byte DEK).
    """

    kek_version: int
    blob: bytes


@runtime_checkable
class KeyProvider(Protocol):
    """A versioned keyring of KEKs that wraps and unwraps DEKs.

    Contract for every implementation:

    * ``current_version()`` / ``versions()`` report available KEK versions
      (positive ints); ``KeyUnavailable`` if the keyring cannot be reached.
    * ``wrap(dek)`` requires a 32-byte DEK (``ValueError`` otherwise) and always
      wraps under the current version.
    * ``unwrap(w)`` returns the DEK; ``KeyUnavailable`` if ``w.kek_version`` is
      unknown or retired, ``DecryptionError`` if the blob fails integrity.
    * ``rotate()`` creates a new KEK version, makes it current and returns it.
    * ``retire(v)`` destroys version ``v``; the caller must first make sure no
      stored DEK depends on it. Retiring the current version is refused.
    * Instances are safe to share between threads.
    """

    def current_version(self) -> int:
        """Return the KEK version that ``wrap`` uses now."""
        ...

    def versions(self) -> list[int]:
        """Return all KEK versions that can currently unwrap, ascending."""
        ...

    def wrap(self, dek: bytes) -> WrappedKey:
        """Wrap a 32-byte DEK under the current KEK version."""
        ...

    def unwrap(self, wrapped: WrappedKey) -> bytes:
        """Return the 32-byte DEK inside ``wrapped``."""
        ...

    def rotate(self) -> int:
        """Create a new current KEK version and return its number."""
        ...

    def retire(self, version: int) -> None:
        """Destroy KEK ``version`` (never the current one)."""
        ...


def new_data_key() -> bytes:
    """Return a fresh 256-bit DEK from the OS CSPRNG.

    Contract: uniformly random, never reused; the caller must store it only in
    wrapped form and keep the plaintext DEK in memory no longer than needed.
    """
    return secrets.token_bytes(DEK_SIZE)


def check_dek(dek: bytes) -> None:
    """Raise ``ValueError`` unless ``dek`` is a 32-byte ``bytes`` value."""
    if not isinstance(dek, bytes) or len(dek) != DEK_SIZE:
        raise ValueError(f"a DEK must be exactly {DEK_SIZE} bytes")


def check_wrapped(wrapped: WrappedKey) -> None:
    """Raise ``DecryptionError`` if ``wrapped`` cannot be a wrapped 32-byte DEK."""
    if not isinstance(wrapped.kek_version, int) or isinstance(wrapped.kek_version, bool):
        raise DecryptionError("malformed wrapped key: kek_version is not an int")
    if not isinstance(wrapped.blob, bytes) or len(wrapped.blob) != WRAPPED_DEK_SIZE:
        raise DecryptionError("malformed wrapped key: wrong blob length")
