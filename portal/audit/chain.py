"""Canonical encoding of access records and the hash chain over them.

Record encoding, format version 1
=================================

One access record is a mapping of field name to value. Its *encoding* is the
exact byte string that is stored next to the record, hashed into the chain and
into the Merkle tree. Verification never re-derives it from the database
columns: it works on the stored bytes, so the encoding must be produced once, at
write time, by :func:`canonical_encoding`.

Version 1 is JSON (RFC 8259) with these rules, which make it deterministic and
unambiguous:

* Object keys are sorted by Unicode code point, at every nesting level.
* No insignificant whitespace: separators are ``,`` and ``:``.
* ``ensure_ascii``: the output is pure ASCII. Every character outside
  U+0020..U+007E, and ``"`` and ``\\``, is escaped (``\\n``, ``\\u001b``,
  ``\\u2028``, ``\\u00e9`` ...), so a newline, an ANSI escape sequence or a
  JSON-breaking character in a field can never reach a terminal, a log line or a
  parser unescaped.
* Allowed values, and how they are written:

  - ``str`` -> JSON string. Strings containing surrogate code points
    (U+D800..U+DFFF) are rejected with ``ValueError``: they are not Unicode
    text, and a surrogate pair would encode the same as the real character.
  - ``bool`` -> ``true`` / ``false``.
  - ``int`` -> JSON integer; must fit in a signed 64-bit integer
    (``ValueError`` otherwise) so every consumer can read it back exactly.
  - ``None`` -> ``null``.
  - ``datetime`` -> JSON string ``YYYY-MM-DDTHH:MM:SS.mmmZ``: converted to UTC
    and *truncated* to whole milliseconds. Naive datetimes (no tzinfo) are
    rejected with ``ValueError``.
  - ``list`` / ``tuple`` of ``str`` -> JSON array of strings (order kept).
  - nested ``Mapping`` with ``str`` keys and values of the types above
    (including further mappings) -> JSON object.

* Anything else - ``float`` (also NaN/infinity), ``Decimal``, ``bytes``,
  ``date``, ``UUID``, sets, lists of non-strings, non-``str`` keys - is rejected
  with ``TypeError``. Convert such values explicitly (e.g. ``str(uuid)``) before
  encoding. Subclasses of ``str``/``int`` (e.g. ``StrEnum``, ``IntEnum``) are
  written as their plain ``str``/``int`` value.

A future format must use a new domain tag for the chain (see
:data:`CHAIN_DOMAIN`), so records of different versions can never hash alike.

Hash chain
==========

``record_hash[n] = SHA-256(b"mdo-audit-v1\\x00" || record_hash[n-1] || encoding[n])``
with ``record_hash[0] = GENESIS`` (32 zero bytes). ``prev_hash`` is always exactly
32 bytes, so the concatenation is unambiguous.

Merkle leaves
=============

Each encoding is also a leaf of an RFC 6962 Merkle tree (see
:mod:`portal.audit.merkle`): ``leaf_hash = SHA-256(0x00 || encoding)``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "CHAIN_DOMAIN",
    "ENCODING_VERSION",
    "GENESIS",
    "HASH_SIZE",
    "canonical_encoding",
    "chain_hash",
    "format_timestamp",
    "leaf_hash",
]

ENCODING_VERSION = 1
"""Version of the record encoding and chain rules implemented here."""

HASH_SIZE = 32
GENESIS = bytes(HASH_SIZE)
"""The ``prev_hash`` of the first record (seq 1)."""

CHAIN_DOMAIN = b"mdo-audit-v1\x00"
"""Domain-separation prefix of every chain hash input (format version 1)."""

_LEAF_PREFIX = b"\x00"

_INT_MIN = -(2**63)
_INT_MAX = 2**63 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")

_sha256 = hashlib.sha256


def format_timestamp(value: datetime) -> str:
    """Format an aware datetime as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC (truncated to ms)."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError("naive datetime: access record timestamps must be timezone-aware")
    utc = value.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def _check_str(value: str) -> str:
    plain = str.__str__(value)  # drop str subclasses (StrEnum ...) to the plain value
    if _SURROGATE.search(plain) is not None:
        raise ValueError("string contains a surrogate code point (not valid Unicode text)")
    return plain


def _normalise(value: object, path: str) -> object:
    # bool before int: bool is a subclass of int.
    if value is None:
        return None
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        number = int.__index__(value)
        if not _INT_MIN <= number <= _INT_MAX:
            raise ValueError(f"{path}: integer out of the signed 64-bit range")
        return number
    if isinstance(value, str):
        try:
            return _check_str(value)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
    if isinstance(value, datetime):
        try:
            return format_timestamp(value)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
    if isinstance(value, list | tuple):
        items: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise TypeError(
                    f"{path}[{index}]: lists may only hold str, not {type(item).__name__}"
                )
            items.append(_check_str(item))
        return items
    if isinstance(value, Mapping):
        return _normalise_mapping(value, path)
    raise TypeError(f"{path}: unsupported type {type(value).__name__} in an access record")


def _normalise_mapping(fields: Mapping[Any, object], path: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in fields.items():
        if not isinstance(key, str):
            raise TypeError(f"{path}: field names must be str, not {type(key).__name__}")
        name = _check_str(key)
        out[name] = _normalise(value, f"{path}.{name}" if path else name)
    return out


def canonical_encoding(fields: Mapping[str, object]) -> bytes:
    """Encode one access record's fields as format version 1 (see the module docstring).

    Raises ``TypeError`` for unsupported types (floats included) and ``ValueError``
    for unsupported values (naive datetimes, out-of-range integers, surrogates).
    """
    if not isinstance(fields, Mapping):
        raise TypeError(f"an access record must be a mapping, not {type(fields).__name__}")
    normalised = _normalise_mapping(fields, "")
    text = json.dumps(
        normalised,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=False,
    )
    return text.encode("ascii")


def chain_hash(prev_hash: bytes, encoding: bytes) -> bytes:
    """Return ``SHA-256(CHAIN_DOMAIN || prev_hash || encoding)``; ``prev_hash`` must be 32 bytes."""
    if len(prev_hash) != HASH_SIZE:
        raise ValueError(f"prev_hash must be {HASH_SIZE} bytes, got {len(prev_hash)}")
    return _sha256(CHAIN_DOMAIN + bytes(prev_hash) + bytes(encoding)).digest()


def leaf_hash(encoding: bytes) -> bytes:
    """Return the RFC 6962 Merkle leaf hash ``SHA-256(0x00 || encoding)``."""
    return _sha256(_LEAF_PREFIX + bytes(encoding)).digest()
