"""C2SP tlog-cosignature, Ed25519 ``cosignature/v1``: a witness's timestamped signature.

The signed message is ``cosignature/v1\\ntime <t>\\n`` followed by the
checkpoint's note text; the signature line is
``— <name> base64(key ID || u64 big-endian timestamp || Ed25519 signature)``
with the key ID ``SHA-256(name || 0x0A || 0x04 || public key)[:4]``.
Witness verifier keys are vkeys with signature type 0x04.

Specification: https://c2sp.org/tlog-cosignature. No database code here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from portal.audit.checkpoint import CheckpointError

__all__ = ["ALG_COSIGNATURE_V1", "Cosignature", "cosign", "cosigner_vkey", "open_cosignature",
           "parse_cosigner_vkey"]

ALG_COSIGNATURE_V1 = 0x04
_SIG_PREFIX = "— "
_MAX_TIMESTAMP = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Cosignature:
    """A verified cosignature line: who signed, when (POSIX seconds) and the line itself."""

    name: str
    timestamp: int
    line: str


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def cosigner_key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    material = name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1]) + _raw(public_key)
    return hashlib.sha256(material).digest()[:4]


def cosigner_vkey(name: str, public_key: Ed25519PublicKey) -> str:
    """``<name>+<hex key ID>+<base64(0x04 || public key)>``."""
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise ValueError(f"invalid witness name {name!r}")
    encoded = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + _raw(public_key)).decode()
    return f"{name}+{cosigner_key_id(name, public_key).hex()}+{encoded}"


def parse_cosigner_vkey(vkey: str) -> tuple[str, Ed25519PublicKey]:
    """Parse a witness vkey; raises ValueError when it is malformed or not a cosigner key."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3 or not parts[0] or any(ch.isspace() for ch in parts[0]):
        raise ValueError("malformed witness key: expected <name>+<key ID>+<key>")
    name, hex_id, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
        wanted = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError):
        raise ValueError("malformed witness key: bad encoding") from None
    if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1:
        raise ValueError("malformed witness key: not an Ed25519 cosignature/v1 key")
    public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
    if cosigner_key_id(name, public_key) != wanted:
        raise ValueError("malformed witness key: key ID does not match name and key")
    return name, public_key


def _message(checkpoint_text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


def cosign(checkpoint_text: str, key: Ed25519PrivateKey, name: str, timestamp: int) -> str:
    """The cosignature line (ending in a newline) over a checkpoint's note text."""
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise ValueError("timestamp out of range")
    signature = key.sign(_message(checkpoint_text, timestamp))
    blob = cosigner_key_id(name, key.public_key()) + struct.pack(">Q", timestamp) + signature
    return f"{_SIG_PREFIX}{name} {base64.b64encode(blob).decode()}\n"


def open_cosignature(checkpoint_text: str, lines: str, name: str,
                     public_key: Ed25519PublicKey) -> Cosignature:
    """The first line of ``lines`` from this witness that verifies over ``checkpoint_text``.

    Lines from other keys are ignored (as the spec requires); a line from this key
    that does not verify, or no line from it at all, raises :class:`CheckpointError`.
    """
    wanted = cosigner_key_id(name, public_key)
    for line in lines.splitlines():
        if not line.startswith(_SIG_PREFIX):
            continue
        signer, _, encoded = line[len(_SIG_PREFIX):].partition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if signer != name or blob[:4] != wanted:
            continue
        if len(blob) != 4 + 8 + 64:
            raise CheckpointError(f"malformed cosignature from {name}")
        (timestamp,) = struct.unpack(">Q", blob[4:12])
        try:
            public_key.verify(blob[12:], _message(checkpoint_text, timestamp))
        except InvalidSignature:
            raise CheckpointError(f"invalid cosignature from witness {name}") from None
        return Cosignature(name, timestamp, line + "\n")
    raise CheckpointError(f"no cosignature from witness {name}")
