"""Canonical record encoding (format version 1) and the hash chain."""

from __future__ import annotations

import enum
import hashlib
import json
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.audit.chain import (
    CHAIN_DOMAIN,
    GENESIS,
    canonical_encoding,
    chain_hash,
    format_timestamp,
    leaf_hash,
)

SAMPLE: dict[str, object] = {
    "seq": 1,
    "occurred_at": datetime(2026, 3, 1, 8, 15, 30, 123456, tzinfo=UTC),
    "action_code": "R",
    "event_type": "case.view",
    "outcome": "allowed",
    "reason": None,
    "user_id": "u-1",
    "child_id": "k-7",
    "flags": ["a", "b"],
    "ctx": {"b": True, "a": "x\ny"},
}

# Golden vectors for format version 1. The hashes were computed independently
# with coreutils: (printf 'mdo-audit-v1\0'; head -c 32 /dev/zero; cat enc) | sha256sum
# and (printf '\0'; cat enc) | sha256sum. If these change, the format changed:
# old logs would no longer verify.
SAMPLE_ENCODING = (
    b'{"action_code":"R","child_id":"k-7","ctx":{"a":"x\\ny","b":true},'
    b'"event_type":"case.view","flags":["a","b"],"occurred_at":"2026-03-01T08:15:30.123Z",'
    b'"outcome":"allowed","reason":null,"seq":1,"user_id":"u-1"}'
)
SAMPLE_CHAIN_HASH = "016f3429647bd71f1af2cb3bfed7ca09bfe37b2b06df2610956f6f9606cabc42"
SAMPLE_LEAF_HASH = "dea1017a5c4c4d5e2215fff1d0cf854a748d07218b1009d2737218a239553f2e"


def test_golden_encoding_and_hashes() -> None:
    encoding = canonical_encoding(SAMPLE)
    assert encoding == SAMPLE_ENCODING
    assert chain_hash(GENESIS, encoding).hex() == SAMPLE_CHAIN_HASH
    assert leaf_hash(encoding).hex() == SAMPLE_LEAF_HASH


def test_deterministic_across_key_order() -> None:
    reordered = OrderedDict(reversed(list(SAMPLE.items())))
    reordered["ctx"] = {"a": "x\ny", "b": True}
    assert canonical_encoding(reordered) == canonical_encoding(SAMPLE)


def test_no_whitespace_and_ascii_only() -> None:
    encoding = canonical_encoding({"a": "é ü 中文 😀", "b": [" x "]})
    assert encoding.isascii()
    assert encoding == b'{"a":"\\u00e9 \\u00fc \\u4e2d\\u6587 \\ud83d\\ude00","b":[" x "]}'
    assert json.loads(encoding) == {"a": "é ü 中文 😀", "b": [" x "]}


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("line1\nline2", b"line1\\nline2"),
        ("\r\t", b"\\r\\t"),
        ("\x1b[31mred\x1b[0m", b"\\u001b[31mred\\u001b[0m"),
        ('say "hi"', b'say \\"hi\\"'),
        ("back\\slash", b"back\\\\slash"),
        ("a\u2028b\u2029c", b"a\\u2028b\\u2029c"),
        ("nul\x00", b"nul\\u0000"),
        ("\x7f", b"\\u007f"),
    ],
)
def test_dangerous_characters_are_escaped(value: str, escaped: bytes) -> None:
    encoding = canonical_encoding({"v": value})
    assert encoding == b'{"v":"' + escaped + b'"}'
    assert all(0x20 <= byte < 0x7F for byte in encoding)
    assert json.loads(encoding) == {"v": value}


def test_keys_are_escaped_too() -> None:
    encoding = canonical_encoding({'k"\n': 1})
    assert encoding == b'{"k\\"\\n":1}'


@pytest.mark.parametrize(
    "bad",
    [
        1.0,
        float("nan"),
        float("inf"),
        Decimal("1.5"),
        b"bytes",
        bytearray(b"x"),
        date(2026, 1, 1),
        timedelta(seconds=1),
        UUID(int=1),
        {"a"},
        frozenset(),
        [1, 2],
        ["ok", 1.0],
        ["ok", None],
        [["nested"]],
        object(),
    ],
)
def test_unsupported_types_raise_type_error(bad: object) -> None:
    with pytest.raises(TypeError):
        canonical_encoding({"v": bad})
    with pytest.raises(TypeError):
        canonical_encoding({"outer": {"inner": bad}})


def test_non_str_keys_and_non_mappings_raise_type_error() -> None:
    with pytest.raises(TypeError):
        canonical_encoding({1: "x"})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        canonical_encoding({"n": {2: "x"}})
    with pytest.raises(TypeError):
        canonical_encoding([("a", 1)])  # type: ignore[arg-type]


def test_datetimes_are_utc_with_milliseconds() -> None:
    cet = timezone(timedelta(hours=1))
    cases = {
        datetime(2026, 3, 1, 9, 15, 30, 123999, tzinfo=cet): "2026-03-01T08:15:30.123Z",
        datetime(2026, 3, 1, 8, 15, 30, tzinfo=UTC): "2026-03-01T08:15:30.000Z",
        datetime(2026, 1, 1, 0, 30, 0, 999, tzinfo=cet): "2025-12-31T23:30:00.000Z",
        datetime(5, 6, 7, 8, 9, 10, 11000, tzinfo=UTC): "0005-06-07T08:09:10.011Z",
    }
    for value, text in cases.items():
        assert format_timestamp(value) == text
        assert canonical_encoding({"t": value}) == b'{"t":"' + text.encode() + b'"}'


def test_same_instant_in_other_zones_encodes_identically() -> None:
    instant = datetime(2026, 7, 1, 12, 0, 0, 250000, tzinfo=UTC)
    amsterdam = instant.astimezone(timezone(timedelta(hours=2)))
    assert canonical_encoding({"t": instant}) == canonical_encoding({"t": amsterdam})


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        canonical_encoding({"t": datetime(2026, 3, 1, 8, 0, 0)})


def test_scalars_are_distinguished() -> None:
    assert canonical_encoding({"v": True}) == b'{"v":true}'
    assert canonical_encoding({"v": 1}) == b'{"v":1}'
    assert canonical_encoding({"v": "1"}) == b'{"v":"1"}'
    assert canonical_encoding({"v": None}) == b'{"v":null}'
    assert canonical_encoding({"v": ()}) == b'{"v":[]}'
    assert canonical_encoding({"v": ("b", "a")}) == b'{"v":["b","a"]}'
    assert canonical_encoding({}) == b"{}"


def test_integer_range() -> None:
    assert canonical_encoding({"v": 2**63 - 1}) == b'{"v":9223372036854775807}'
    assert canonical_encoding({"v": -(2**63)}) == b'{"v":-9223372036854775808}'
    with pytest.raises(ValueError, match="64-bit"):
        canonical_encoding({"v": 2**63})


def test_surrogates_are_rejected() -> None:
    with pytest.raises(ValueError, match="surrogate"):
        canonical_encoding({"v": "\ud83d\ude00"})
    with pytest.raises(ValueError, match="surrogate"):
        canonical_encoding({"\udc80": 1})


def test_enum_subclasses_are_written_as_plain_values() -> None:
    class Outcome(enum.StrEnum):
        ALLOWED = "allowed"

    class Level(enum.IntEnum):
        HIGH = 3

    assert canonical_encoding({"o": Outcome.ALLOWED, "l": Level.HIGH}) == (b'{"l":3,"o":"allowed"}')


def test_chain_hash_definition_and_input_check() -> None:
    prev = bytes(range(32))
    encoding = b'{"a":1}'
    expected = hashlib.sha256(b"mdo-audit-v1\x00" + prev + encoding).digest()
    assert CHAIN_DOMAIN == b"mdo-audit-v1\x00"
    assert chain_hash(prev, encoding) == expected
    assert chain_hash(GENESIS, encoding) != chain_hash(prev, encoding)
    assert bytes(32) == GENESIS
    with pytest.raises(ValueError, match="32 bytes"):
        chain_hash(prev[:31], encoding)


def test_leaf_hash_rfc6962_vectors() -> None:
    # From transparency-dev/merkle rfc6962/rfc6962_test.go (TestRFC6962Hasher).
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert leaf_hash(b"L123456").hex() == (
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )


# --- properties -----------------------------------------------------------------------------

_text = st.text(st.characters(codec="utf-8"), max_size=20)  # no surrogates
_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    _text,
    st.lists(_text, max_size=4),
)
_value = st.recursive(
    _scalar, lambda inner: st.dictionaries(_text, inner, max_size=4), max_leaves=12
)
_record = st.dictionaries(_text, _value, max_size=8)


@settings(database=None, max_examples=200, deadline=None)
@given(_record, st.randoms(use_true_random=False))
def test_property_deterministic_ascii_and_round_trips(record: dict[str, Any], rnd: Any) -> None:
    encoding = canonical_encoding(record)
    assert all(0x20 <= byte < 0x7F for byte in encoding)
    assert json.loads(encoding) == record
    items = list(record.items())
    rnd.shuffle(items)
    assert canonical_encoding(dict(items)) == encoding
