"""Record encryption for small fields (minutes text, titles, notes).

Each value is sealed with AES-256-GCM under a per-case (or per-object) DEK.
The ciphertext is bound to *where it belongs* through a ``Binding`` that goes
into the associated data, so a valid ciphertext copied to another case,
object, field or version fails to decrypt instead of silently showing one
child's data in another child's file.

Blob layout (format 1)::

    b"mr" | 0x01 | len(dek_id) (1 byte) | dek_id (UTF-8) | nonce (12) | ct || tag (16)

Associated data = the header bytes (everything before the nonce) followed by
``binding.encode()``, so the header (format, dek id) is authenticated too.

Nonces are random 96-bit values; NIST SP 800-38D limits a key to 2**32 such
encryptions, so a DEK must not seal more than ~2**32 records (per-case DEKs
stay many orders of magnitude below that).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crypto.envelope import check_dek
from crypto.errors import DecryptionError

__all__ = ["Binding", "decrypt_record", "encrypt_record", "record_dek_id"]

_MAGIC = b"mr"
_FORMAT_V1 = 1
_NONCE_SIZE = 12
_TAG_SIZE = 16
_MAX_DEK_ID = 255
_BINDING_TAG = b"mdo-record-ad-v1"
_BINDING_TAG_V2 = b"mdo-record-ad-v2"
_MAX_VERSION = 2**64 - 1


@dataclass(frozen=True)
class Binding:
    """Where a ciphertext belongs; authenticated as associated data.

    Contract: all string fields must be ``str`` that encode to UTF-8 (no lone
    surrogates) and shorter than 2**32 bytes; ``version`` an ``int`` in
    [0, 2**64). Violations raise ``ValueError`` at construction. ``encode()``
    is injective: two bindings that differ in any field encode differently.

    ``context`` carries the facts stored in the clear beside the ciphertext
    that decide who may read it (data categories, a sharing flag, a save
    counter), as (name, value) pairs: a database edit of any of them makes
    the ciphertext fail instead of widening access. Empty, the encoding is
    exactly format 1's, so existing ciphertexts keep decrypting.
    """

    purpose: str
    case_id: str
    object_type: str
    object_id: str
    version: int
    field: str
    context: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for name in ("purpose", "case_id", "object_type", "object_id", "field"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise ValueError(f"Binding.{name} must be str")
            value.encode("utf-8")  # raises UnicodeEncodeError (a ValueError)
        if not isinstance(self.context, tuple) or not all(
                isinstance(pair, tuple) and len(pair) == 2
                and all(isinstance(part, str) for part in pair) for pair in self.context):
            raise ValueError("Binding.context must be a tuple of (str, str) pairs")
        if not isinstance(self.version, int) or isinstance(self.version, bool):
            raise ValueError("Binding.version must be int")
        if not 0 <= self.version <= _MAX_VERSION:
            raise ValueError("Binding.version must be in [0, 2**64)")

    def encode(self) -> bytes:
        """Return the unambiguous byte encoding used as associated data.

        Layout: ``b"mdo-record-ad-v1"`` then purpose, case_id, object_type,
        object_id (each 4-byte big-endian length + UTF-8), version (8-byte
        big-endian unsigned), field (length + UTF-8). With a ``context`` the
        tag is ``b"mdo-record-ad-v2"`` and the same fields are followed by the
        number of pairs (4 bytes) and each name and value (length + UTF-8), in
        the order given. Contract: injective and stable across releases
        (changing it would make stored data unreadable).
        """
        parts = [_BINDING_TAG_V2 if self.context else _BINDING_TAG]
        for text in (self.purpose, self.case_id, self.object_type, self.object_id):
            parts.append(_lp(text))
        parts.append(struct.pack(">Q", self.version))
        parts.append(_lp(self.field))
        if self.context:
            parts.append(struct.pack(">I", len(self.context)))
            for name, value in self.context:
                parts.append(_lp(name))
                parts.append(_lp(value))
        return b"".join(parts)


def _lp(text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) >= 2**32:
        raise ValueError("binding field too long")
    return struct.pack(">I", len(raw)) + raw


def _header(dek_id: str) -> bytes:
    if not isinstance(dek_id, str):
        raise ValueError("dek_id must be str")
    raw = dek_id.encode("utf-8")
    if not 1 <= len(raw) <= _MAX_DEK_ID:
        raise ValueError(f"dek_id must be 1..{_MAX_DEK_ID} UTF-8 bytes")
    return _MAGIC + bytes([_FORMAT_V1, len(raw)]) + raw


def _split(blob: bytes) -> tuple[bytes, str, bytes, bytes]:
    """Split a blob into (header, dek_id, nonce, ciphertext) or raise DecryptionError."""
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise DecryptionError("malformed record: not bytes")
    blob = bytes(blob)
    if len(blob) < len(_MAGIC) + 2 or blob[: len(_MAGIC)] != _MAGIC:
        raise DecryptionError("malformed record: bad magic")
    if blob[2] != _FORMAT_V1:
        raise DecryptionError("malformed record: unsupported format version")
    id_len = blob[3]
    header_end = 4 + id_len
    if id_len == 0 or len(blob) < header_end + _NONCE_SIZE + _TAG_SIZE:
        raise DecryptionError("malformed record: truncated")
    try:
        dek_id = blob[4:header_end].decode("utf-8")
    except UnicodeDecodeError:
        raise DecryptionError("malformed record: bad dek id") from None
    nonce_end = header_end + _NONCE_SIZE
    return blob[:header_end], dek_id, blob[header_end:nonce_end], blob[nonce_end:]


def encrypt_record(dek: bytes, dek_id: str, plaintext: bytes, binding: Binding) -> bytes:
    """Encrypt ``plaintext`` with AES-256-GCM, bound to ``binding``.

    Caller guarantees: ``dek`` is a 32-byte DEK (``ValueError`` otherwise),
    ``dek_id`` (1..255 UTF-8 bytes) identifies it for later lookup and is not
    secret, ``binding`` describes exactly where the blob will be stored.
    Guaranteed: confidentiality and integrity of ``plaintext``; the blob only
    decrypts with the same DEK and an equal binding. The plaintext length is
    revealed (len(blob) = header + 28 + len(plaintext)).
    """
    check_dek(dek)
    header = _header(dek_id)
    nonce = os.urandom(_NONCE_SIZE)
    sealed = AESGCM(dek).encrypt(nonce, plaintext, header + binding.encode())
    return header + nonce + sealed


def decrypt_record(dek: bytes, blob: bytes, binding: Binding) -> bytes:
    """Authenticate and decrypt a blob made by ``encrypt_record``.

    Caller guarantees: ``dek`` is 32 bytes (``ValueError`` otherwise) and
    ``binding`` is derived from where the blob was read, never from the blob.
    Guaranteed: returns the original plaintext only if the blob is unmodified,
    was sealed under ``dek`` and with an equal binding; otherwise raises
    ``DecryptionError`` without revealing which check failed.
    """
    check_dek(dek)
    header, _dek_id, nonce, sealed = _split(blob)
    try:
        return AESGCM(dek).decrypt(nonce, sealed, header + binding.encode())
    except InvalidTag:
        raise DecryptionError("record authentication failed") from None


def record_dek_id(blob: bytes) -> str:
    """Return the DEK id from a blob's header without decrypting.

    Contract: the result is *unauthenticated* (an attacker who can write the
    blob can change it); use it only to look up the wrapped DEK, then rely on
    ``decrypt_record`` (which authenticates the header) for integrity.
    ``DecryptionError`` if the header is malformed.
    """
    return _split(blob)[1]
