"""Tests for crypto.record: AES-256-GCM record encryption bound to a Binding."""

from __future__ import annotations

import dataclasses
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto import (
    Binding,
    DecryptionError,
    decrypt_record,
    encrypt_record,
    new_data_key,
    record_dek_id,
)

BINDING = Binding(
    purpose="minutes",
    case_id="case-42",
    object_type="meeting",
    object_id="m-7",
    version=3,
    field="body",
)


def _decode_binding(raw: bytes) -> Binding:
    """Independent parser for Binding.encode(); a left inverse proves injectivity."""
    v2 = raw.startswith(b"mdo-record-ad-v2")
    assert v2 or raw.startswith(b"mdo-record-ad-v1")
    pos = len(b"mdo-record-ad-v1")

    def text() -> str:
        nonlocal pos
        (n,) = struct.unpack_from(">I", raw, pos)
        pos += 4
        value = raw[pos : pos + n].decode("utf-8")
        assert len(value.encode("utf-8")) == n
        pos += n
        return value

    purpose, case_id, object_type, object_id = text(), text(), text(), text()
    (version,) = struct.unpack_from(">Q", raw, pos)
    pos += 8
    field = text()
    context: tuple[tuple[str, str], ...] = ()
    if v2:
        (count,) = struct.unpack_from(">I", raw, pos)
        pos += 4
        assert count > 0
        context = tuple((text(), text()) for _ in range(count))
    assert pos == len(raw)
    return Binding(purpose, case_id, object_type, object_id, version, field, context)


@pytest.mark.parametrize(
    "plaintext", [b"", b"x", b"Verslag MDO: zorgen om thuissituatie.", bytes(5000)]
)
def test_round_trip(plaintext: bytes) -> None:
    dek = new_data_key()
    blob = encrypt_record(dek, "dek-1", plaintext, BINDING)
    assert decrypt_record(dek, blob, BINDING) == plaintext
    if len(plaintext) >= 16:  # shorter strings may occur in random bytes by chance
        assert plaintext not in blob


def test_dek_id_readable_without_key() -> None:
    blob = encrypt_record(new_data_key(), "case-42/dek-v2", b"secret", BINDING)
    assert record_dek_id(blob) == "case-42/dek-v2"


def test_random_nonce_makes_ciphertexts_differ() -> None:
    dek = new_data_key()
    assert encrypt_record(dek, "d", b"same", BINDING) != encrypt_record(dek, "d", b"same", BINDING)


@pytest.mark.parametrize(
    "change",
    [
        {"purpose": "notes"},
        {"case_id": "case-43"},
        {"object_type": "attachment"},
        {"object_id": "m-8"},
        {"version": 4},
        {"version": 2},
        {"field": "title"},
    ],
)
def test_moved_ciphertext_is_rejected(change: dict[str, object]) -> None:
    dek = new_data_key()
    blob = encrypt_record(dek, "dek-1", b"child's health data", BINDING)
    other = dataclasses.replace(BINDING, **change)  # type: ignore[arg-type]
    with pytest.raises(DecryptionError):
        decrypt_record(dek, blob, other)


def test_every_single_byte_flip_is_rejected() -> None:
    dek = new_data_key()
    blob = encrypt_record(dek, "k1", b"hi there", BINDING)
    assert len(blob) == 4 + 2 + 12 + 8 + 16
    for pos in range(len(blob)):
        for mask in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[pos] ^= mask
            with pytest.raises(DecryptionError):
                decrypt_record(dek, bytes(tampered), BINDING)


def test_truncation_and_extension_are_rejected() -> None:
    dek = new_data_key()
    blob = encrypt_record(dek, "k1", b"hello", BINDING)
    for end in range(len(blob)):
        with pytest.raises(DecryptionError):
            decrypt_record(dek, blob[:end], BINDING)
    with pytest.raises(DecryptionError):
        decrypt_record(dek, blob + b"\x00", BINDING)


def test_header_dek_id_is_authenticated() -> None:
    dek = new_data_key()
    blob = encrypt_record(dek, "k1", b"hello", BINDING)
    forged = blob.replace(b"k1", b"k2", 1)
    assert record_dek_id(forged) == "k2"
    with pytest.raises(DecryptionError):
        decrypt_record(dek, forged, BINDING)


def test_wrong_key_is_rejected_without_leaking() -> None:
    blob = encrypt_record(new_data_key(), "k1", b"geheime diagnose", BINDING)
    with pytest.raises(DecryptionError) as info:
        decrypt_record(new_data_key(), blob, BINDING)
    assert "diagnose" not in str(info.value)


@pytest.mark.parametrize(
    "blob", [b"", b"mr", b"xx\x01\x01a" + bytes(28), b"mr\x02\x01a" + bytes(28)]
)
def test_malformed_blobs(blob: bytes) -> None:
    with pytest.raises(DecryptionError):
        decrypt_record(new_data_key(), blob, BINDING)
    with pytest.raises(DecryptionError):
        record_dek_id(blob)


def test_caller_errors_raise_value_error() -> None:
    with pytest.raises(ValueError, match="DEK"):
        encrypt_record(b"short", "k", b"x", BINDING)
    with pytest.raises(ValueError, match="DEK"):
        decrypt_record(bytes(16), b"", BINDING)
    with pytest.raises(ValueError, match="dek_id"):
        encrypt_record(new_data_key(), "", b"x", BINDING)
    with pytest.raises(ValueError, match="dek_id"):
        encrypt_record(new_data_key(), "x" * 256, b"x", BINDING)


@pytest.mark.parametrize("version", [-1, 2**64, True])
def test_binding_rejects_bad_version(version: int) -> None:
    with pytest.raises(ValueError, match="version"):
        dataclasses.replace(BINDING, version=version)


def test_binding_rejects_unencodable_text() -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - UnicodeEncodeError, message varies
        dataclasses.replace(BINDING, case_id="\ud800")
    with pytest.raises(ValueError, match="str"):
        dataclasses.replace(BINDING, case_id=42)  # type: ignore[arg-type]


def test_context_binds_access_facts() -> None:
    """A widened category or a flipped sharing flag makes the record fail, not open."""
    dek = new_data_key()
    sealed = Binding("p", "c", "t", "o", 1, "f", (("categories", "health"),
                                                    ("shared_with_parents", "0")))
    blob = encrypt_record(dek, "k", b"geheim", sealed)
    assert decrypt_record(dek, blob, sealed) == b"geheim"
    for edited in ((("categories", "health,other"), ("shared_with_parents", "0")),
                   (("categories", "health"), ("shared_with_parents", "1")),
                   (("categories", "health"),), ()):
        with pytest.raises(DecryptionError):
            decrypt_record(dek, blob, Binding("p", "c", "t", "o", 1, "f", edited))
    # Without context the encoding is format 1's, byte for byte (stored data stays readable).
    assert Binding("p", "c", "t", "o", 1, "f").encode().startswith(b"mdo-record-ad-v1")
    assert sealed.encode().startswith(b"mdo-record-ad-v2")
    with pytest.raises(ValueError, match="context"):
        Binding("p", "c", "t", "o", 1, "f", (("categories",),))  # type: ignore[arg-type]


def test_binding_boundaries_are_unambiguous() -> None:
    a = Binding("ab", "c", "t", "o", 1, "f")
    b = Binding("a", "bc", "t", "o", 1, "f")
    c = Binding("a", "b", "ct", "o", 1, "f")
    assert len({a.encode(), b.encode(), c.encode()}) == 3
    assert Binding("", "", "", "", 0, "x").encode() != Binding("", "", "", "", 0, "").encode()
    assert BINDING.encode().startswith(b"mdo-record-ad-v1")


_text = st.text(max_size=12)
_bindings = st.builds(
    Binding,
    purpose=_text,
    case_id=_text,
    object_type=_text,
    object_id=_text,
    version=st.integers(min_value=0, max_value=2**64 - 1),
    field=_text,
    context=st.lists(st.tuples(_text, _text), max_size=3).map(tuple),
)


@given(_bindings)
def test_binding_encoding_has_left_inverse(binding: Binding) -> None:
    assert _decode_binding(binding.encode()) == binding


@given(_bindings, _bindings)
def test_binding_encoding_is_injective(first: Binding, second: Binding) -> None:
    assert (first.encode() == second.encode()) == (first == second)


@given(st.text(min_size=1, max_size=20), st.data())
def test_moving_a_field_boundary_changes_the_encoding(joined: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(joined)))
    j = data.draw(st.integers(0, len(joined)))
    first = Binding("p", joined[:i], joined[i:], "o", 1, "f")
    second = Binding("p", joined[:j], joined[j:], "o", 1, "f")
    assert (first.encode() == second.encode()) == (i == j)
