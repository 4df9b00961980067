"""Signed checkpoints: C2SP tlog-checkpoint bodies inside C2SP signed notes (Ed25519).

A checkpoint commits to the first ``size`` access records via their RFC 6962
Merkle root::

    <origin>\\n
    <tree size, decimal, no leading zeroes>\\n
    <base64 root hash>\\n
    [<extension line>\\n ...]
    \\n
    — <key name> <base64(4-byte key ID || 64-byte Ed25519 signature)>\\n

The signature is Ed25519 (RFC 8032) over the note text: every byte before the
blank line, including the text's final newline. The key ID is
``SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]``. Verifier keys
are exchanged as ``<name>+<8 hex digits key ID>+<base64(0x01 || public key)>``,
the format of golang.org/x/mod/sumdb/note.

Specifications: https://c2sp.org/signed-note and https://c2sp.org/tlog-checkpoint.
Following signed-note, signature lines from unknown keys (another name or key
ID, e.g. a witness cosignature) are ignored, a failing signature from a known
key rejects the whole note, and a note without a verifying known signature is
rejected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = [
    "MAX_SIGNATURES",
    "Checkpoint",
    "CheckpointError",
    "format_checkpoint",
    "key_id",
    "open_checkpoint",
    "open_checkpoint_any",
    "open_note",
    "parse_checkpoint",
    "parse_verifier_key",
    "sign_checkpoint",
    "sign_note",
    "verifier_key",
]

ALG_ED25519 = 0x01
"""Signed-note signature type identifier of Ed25519."""

MAX_SIGNATURES = 100
"""Notes with more signature lines than this are rejected as malformed."""

_SIG_PREFIX = "— "  # U+2014 EM DASH, U+0020 SPACE
_HASH_SIZE = 32
_MAX_TREE_SIZE = 2**64 - 1
_SIZE_RE = re.compile(r"0|[1-9][0-9]{0,19}")
_HEX8_RE = re.compile(r"[0-9a-fA-F]{8}")
_CONTROL_RE = re.compile("[\x00-\x09\x0b-\x1f]")  # ASCII controls except newline


class CheckpointError(ValueError):
    """A note or checkpoint is malformed, or not validly signed by a trusted key."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A verified checkpoint: the log ``origin`` had ``size`` records with Merkle ``root``."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


# --- keys -------------------------------------------------------------------------------------


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _valid_key_name(name: str) -> bool:
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not any(ch.isspace() for ch in name)
        and _CONTROL_RE.search(name) is None
        and re.search("[\ud800-\udfff]", name) is None
    )


def _require_key_name(name: str) -> None:
    if not _valid_key_name(name):
        raise ValueError(f"invalid key name {name!r}: it must be non-empty, without spaces or '+'")


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte signed-note key ID of an Ed25519 key with this name."""
    _require_key_name(name)
    material = name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + _raw_public(public_key)
    return hashlib.sha256(material).digest()[:4]


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """Encode a verifier key as ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
    encoded = base64.b64encode(bytes([ALG_ED25519]) + _raw_public(public_key)).decode("ascii")
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def _b64decode_strict(text: str) -> bytes:
    """Standard base64 with padding; rejects other characters and non-canonical forms."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError("invalid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("non-canonical base64")
    return raw


def parse_verifier_key(vkey: str) -> tuple[str, Ed25519PublicKey]:
    """Parse a verifier key string; raises ``ValueError`` if it is malformed or inconsistent."""
    # The name and the hex key ID cannot contain "+", base64 can.
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise ValueError("malformed verifier key: expected <name>+<key ID>+<key>")
    name, hex_id, encoded = parts
    if not _valid_key_name(name):
        raise ValueError("malformed verifier key: invalid key name")
    if _HEX8_RE.fullmatch(hex_id) is None:
        raise ValueError("malformed verifier key: key ID must be 8 hex digits")
    try:
        raw = _b64decode_strict(encoded)
    except ValueError as exc:
        raise ValueError(f"malformed verifier key: {exc}") from None
    if len(raw) != 1 + 32 or raw[0] != ALG_ED25519:
        raise ValueError("malformed verifier key: not an Ed25519 key")
    public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
    if key_id(name, public_key) != bytes.fromhex(hex_id):
        raise ValueError("malformed verifier key: key ID does not match name and key")
    return name, public_key


# --- signed notes -----------------------------------------------------------------------------


def _check_note_chars(text: str, what: str) -> None:
    if _CONTROL_RE.search(text) is not None:
        raise CheckpointError(f"{what} contains a control character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CheckpointError(f"{what} is not valid UTF-8 text") from None


def sign_note(text: str, key: Ed25519PrivateKey, key_name: str) -> str:
    """Sign ``text`` (non-empty, ending in a newline) and return the signed note."""
    _require_key_name(key_name)
    if not text.endswith("\n"):
        raise CheckpointError("note text must be non-empty and end with a newline")
    _check_note_chars(text, "note text")
    signature = key.sign(text.encode("utf-8"))
    blob = key_id(key_name, key.public_key()) + signature
    return f"{text}\n{_SIG_PREFIX}{key_name} {base64.b64encode(blob).decode('ascii')}\n"


def _known_keys(
    keys: Iterable[tuple[str, Ed25519PublicKey]],
) -> dict[tuple[str, bytes], tuple[bytes, Ed25519PublicKey]]:
    known: dict[tuple[str, bytes], tuple[bytes, Ed25519PublicKey]] = {}
    for name, public_key in keys:
        ident = (name, key_id(name, public_key))
        raw = _raw_public(public_key)
        if ident in known and known[ident][0] != raw:
            raise CheckpointError(f"ambiguous key {name}+{ident[1].hex()}")
        known[ident] = (raw, public_key)
    return known


def open_note(note: str | bytes, keys: Iterable[tuple[str, Ed25519PublicKey]]) -> str:
    """Verify a signed note against trusted ``(key name, public key)`` pairs; return its text.

    Raises :class:`CheckpointError` if the note is malformed, if a signature from a
    trusted key does not verify, or if no trusted key signed it.
    """
    if isinstance(note, bytes | bytearray):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError:
            raise CheckpointError("malformed note: not valid UTF-8") from None
    if not isinstance(note, str):
        raise CheckpointError("malformed note: expected text")
    _check_note_chars(note, "malformed note: it")
    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointError("malformed note: no blank line before the signatures")
    text, sig_block = note[: split + 1], note[split + 2 :]
    if not sig_block.endswith("\n"):
        raise CheckpointError("malformed note: signature block must end with a newline")
    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError("malformed note: too many signatures")

    known = _known_keys(keys)
    message = text.encode("utf-8")
    verified = False
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise CheckpointError("malformed note: bad signature line")
        name, sep, encoded = line[len(_SIG_PREFIX) :].partition(" ")
        if not sep or not _valid_key_name(name) or " " in encoded:
            raise CheckpointError("malformed note: bad signature line")
        try:
            blob = _b64decode_strict(encoded)
        except ValueError:
            raise CheckpointError("malformed note: bad signature encoding") from None
        if len(blob) < 5:
            raise CheckpointError("malformed note: signature too short")
        entry = known.get((name, blob[:4]))
        if entry is None:
            continue  # unknown key (e.g. a witness): ignored, as the spec requires
        signature = blob[4:]
        try:
            if len(signature) != 64:
                raise InvalidSignature
            entry[1].verify(signature, message)
        except InvalidSignature:
            raise CheckpointError(f"invalid signature for key {name}+{blob[:4].hex()}") from None
        verified = True
    if not verified:
        raise CheckpointError("note has no valid signature from a trusted key")
    return text


# --- checkpoints ------------------------------------------------------------------------------


def format_checkpoint(origin: str, size: int, root: bytes, extensions: Sequence[str] = ()) -> str:
    """The checkpoint note text (unsigned body)."""
    if not isinstance(origin, str) or origin == "" or "\n" in origin:
        raise CheckpointError("origin must be a non-empty single line")
    _check_note_chars(origin, "origin")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= _MAX_TREE_SIZE:
        raise CheckpointError("tree size must be an integer in 0..2**64-1")
    if len(root) != _HASH_SIZE:
        raise CheckpointError(f"root hash must be {_HASH_SIZE} bytes")
    lines = [origin, str(size), base64.b64encode(bytes(root)).decode("ascii")]
    for ext in extensions:
        if ext == "" or "\n" in ext:
            raise CheckpointError("extension lines must be non-empty single lines")
        _check_note_chars(ext, "extension line")
        lines.append(ext)
    return "\n".join(lines) + "\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note text (already verified!) into a :class:`Checkpoint`."""
    if not text.endswith("\n"):
        raise CheckpointError("malformed checkpoint: text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(line == "" for line in lines):
        raise CheckpointError("malformed checkpoint: need origin, size and root hash lines")
    origin, size_text, root_text, *extensions = lines
    if _SIZE_RE.fullmatch(size_text) is None or int(size_text) > _MAX_TREE_SIZE:
        raise CheckpointError("malformed checkpoint: bad tree size")
    try:
        root = _b64decode_strict(root_text)
    except ValueError:
        raise CheckpointError("malformed checkpoint: bad root hash encoding") from None
    if len(root) != _HASH_SIZE:
        raise CheckpointError("malformed checkpoint: root hash must be 32 bytes")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(
    origin: str,
    size: int,
    root: bytes,
    key: Ed25519PrivateKey,
    key_name: str,
    *,
    extensions: Sequence[str] = (),
) -> str:
    """Return the signed checkpoint note for a tree of ``size`` leaves with ``root``."""
    return sign_note(format_checkpoint(origin, size, root, extensions), key, key_name)


def open_checkpoint_any(
    note: str | bytes,
    keys: Iterable[tuple[str, Ed25519PublicKey]],
    *,
    origin: str | None = None,
) -> Checkpoint:
    """Verify a checkpoint note against any of the trusted keys and parse it.

    If ``origin`` is given the checkpoint must be for that log.
    """
    checkpoint = parse_checkpoint(open_note(note, keys))
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint is for log {checkpoint.origin!r}, expected {origin!r}")
    return checkpoint


def open_checkpoint(
    note: str | bytes,
    public_key: Ed25519PublicKey,
    key_name: str,
    *,
    origin: str | None = None,
) -> Checkpoint:
    """Verify a checkpoint note signed by ``key_name``/``public_key`` and parse it.

    Raises :class:`CheckpointError` on a bad signature or a malformed note/body.
    """
    return open_checkpoint_any(note, [(key_name, public_key)], origin=origin)
