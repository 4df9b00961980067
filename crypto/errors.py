"""Exception types raised by the ``crypto`` package.

Security contract for every exception defined here: messages and ``args`` never
contain key material, plaintext, PINs or ciphertext bytes, so they are safe to
log. Callers must still treat them as security events (a ``DecryptionError``
can mean tampering) and must never show partial plaintext obtained before one.
"""

from __future__ import annotations

__all__ = ["CryptoError", "DecryptionError", "KeyUnavailable"]


class CryptoError(Exception):
    """Base class for all errors raised by ``crypto``.

    Contract: the message is safe to log (no secrets, no plaintext).
    """


class DecryptionError(CryptoError):
    """Ciphertext could not be authenticated.

    Raised for a wrong key, a wrong binding/associated data, tampering,
    truncation, reordering or malformed input. The caller must discard any
    output produced so far and must not try to distinguish these cases: they
    are deliberately reported alike.
    """


class KeyUnavailable(CryptoError):
    """A key-encryption key (KEK) cannot be reached or loaded.

    Raised when the HSM/token or library is unavailable, a keyring file is
    missing, unreadable, malformed or has unsafe permissions, or a requested
    KEK version does not exist (e.g. it was retired). Retrying may help for
    transient outages; it never indicates tampering with a ciphertext.
    """
