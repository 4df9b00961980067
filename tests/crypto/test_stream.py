"""Tests for crypto.stream: Tink AES-GCM-HKDF streaming format, tampering, memory, interop."""

from __future__ import annotations

import hashlib
import io
import os
import random
import tracemalloc
from collections.abc import Iterable, Iterator

import pytest

from crypto import (
    DEFAULT_SEGMENT_SIZE,
    CryptoError,
    DecryptionError,
    StreamEncryptor,
    decrypt_stream,
)
from crypto.stream import HEADER_SIZE

SEG = 256
TAG = 16
FIRST_PT = SEG - HEADER_SIZE - TAG  # 200 plaintext bytes fit in the first segment
PT = SEG - TAG  # 240 in every later one
IKM = bytes(range(32))
AD = b"mdo-attachment case-42 att-7 v1"


def encrypt(
    data: bytes,
    *,
    chunks: Iterable[bytes] | None = None,
    seg: int = SEG,
    ikm: bytes = IKM,
    ad: bytes = AD,
) -> bytes:
    source = [data] if chunks is None else chunks
    return b"".join(StreamEncryptor(ikm, ad, segment_size=seg).encrypt_segments(source))


def decrypt(
    blob: bytes | Iterable[bytes], *, seg: int = SEG, ikm: bytes = IKM, ad: bytes = AD
) -> bytes:
    source = [blob] if isinstance(blob, bytes) else blob
    return b"".join(decrypt_stream(ikm, ad, source, segment_size=seg))


def split_segments(blob: bytes, seg: int = SEG) -> list[bytes]:
    """Cut a ciphertext into [header+segment 0, segment 1, ...]."""
    return [blob[i : i + seg] for i in range(0, len(blob), seg)]


def expected_length(n: int) -> int:
    if n <= FIRST_PT:
        return HEADER_SIZE + n + TAG
    rest = n - FIRST_PT
    segments = 1 + -(-rest // PT)
    return HEADER_SIZE + n + segments * TAG


SIZES = [
    0,
    1,
    FIRST_PT - 1,
    FIRST_PT,
    FIRST_PT + 1,
    FIRST_PT + PT - 1,
    FIRST_PT + PT,
    FIRST_PT + PT + 1,
    FIRST_PT + 5 * PT,
    3000,
]


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_sizes(size: int) -> None:
    data = os.urandom(size)
    blob = encrypt(data)
    assert len(blob) == expected_length(size)
    assert blob[0] == HEADER_SIZE == 40
    assert decrypt(blob) == data


@pytest.mark.parametrize("size", [0, FIRST_PT, FIRST_PT + PT + 1, 3000])
def test_round_trip_any_chunking(size: int) -> None:
    data = os.urandom(size)
    rng = random.Random(size)
    cuts = sorted(rng.randrange(size + 1) for _ in range(12))
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, size], strict=True)]
    blob = encrypt(data, chunks=pieces)
    assert decrypt(blob) == data
    assert decrypt([blob[i : i + 1] for i in range(len(blob))]) == data
    one_byte_chunks = [data[i : i + 1] for i in range(size)]
    assert decrypt(encrypt(data, chunks=one_byte_chunks)) == data
    # Any bytes-like chunk works at run time, though the API is typed for bytes.
    mixed: list[bytes] = [bytearray(data), memoryview(b"")]  # type: ignore[list-item]
    assert decrypt(encrypt(data, chunks=mixed)) == data


def test_exact_multiple_ends_with_full_last_segment() -> None:
    blob = encrypt(os.urandom(FIRST_PT + 2 * PT))
    assert [len(s) for s in split_segments(blob)] == [SEG, SEG, SEG]


def test_empty_plaintext_is_one_last_segment() -> None:
    blob = encrypt(b"")
    assert len(blob) == HEADER_SIZE + TAG
    assert decrypt(blob) == b""


def test_header_is_first_piece_and_fresh_per_stream() -> None:
    enc = StreamEncryptor(IKM, AD, segment_size=SEG)
    pieces = list(enc.encrypt_segments([b"abc"]))
    assert pieces[0] == enc.header()
    assert len(enc.header()) == HEADER_SIZE
    assert StreamEncryptor(IKM, AD).header() != StreamEncryptor(IKM, AD).header()


def test_encryptor_is_single_use() -> None:
    enc = StreamEncryptor(IKM, AD, segment_size=SEG)
    list(enc.encrypt_segments([b"one"]))
    with pytest.raises(CryptoError):
        enc.encrypt_segments([b"two"])


@pytest.mark.parametrize(
    ("ikm", "ad", "seg"),
    [(bytes(31), AD, SEG), (IKM, AD, HEADER_SIZE + TAG), (IKM, AD, 2**31), (IKM, "text", SEG)],
)
def test_invalid_parameters(ikm: bytes, ad: bytes, seg: int) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - any parameter message
        StreamEncryptor(ikm, ad, segment_size=seg)
    with pytest.raises(ValueError):  # noqa: PT011
        decrypt_stream(ikm, ad, [], segment_size=seg)


MULTI = os.urandom(FIRST_PT + 3 * PT + 17)  # header+seg0, seg1, seg2, seg3, short last seg4


def _consume_until_error(blob: bytes | list[bytes]) -> int:
    """Return how many plaintext segments were yielded before DecryptionError."""
    source = [blob] if isinstance(blob, bytes) else blob
    count = 0
    try:
        for _ in decrypt_stream(IKM, AD, source, segment_size=SEG):
            count += 1
    except DecryptionError:
        return count
    pytest.fail("a damaged stream decrypted without DecryptionError")


def test_truncation_at_every_segment_boundary() -> None:
    segs = split_segments(encrypt(MULTI))
    assert len(segs) == 5
    for keep in range(len(segs)):
        _consume_until_error(b"".join(segs[:keep]))
    _consume_until_error(segs[0][:HEADER_SIZE])  # header only


def test_truncation_inside_last_segment() -> None:
    blob = encrypt(MULTI)
    for cut in (1, TAG - 1, TAG, TAG + 1):
        _consume_until_error(blob[:-cut])


def test_removing_last_segment() -> None:
    segs = split_segments(encrypt(MULTI))
    assert _consume_until_error(b"".join(segs[:-1])) == 3


def test_reordering_segments() -> None:
    segs = split_segments(encrypt(MULTI))
    swapped = [segs[0], segs[2], segs[1], segs[3], segs[4]]
    assert _consume_until_error(b"".join(swapped)) == 1


def test_duplicating_a_segment() -> None:
    segs = split_segments(encrypt(MULTI))
    assert _consume_until_error(b"".join([segs[0], segs[1], segs[1], *segs[2:]])) == 2


def test_every_byte_flip_is_detected_at_its_segment() -> None:
    blob = encrypt(os.urandom(FIRST_PT + PT + 30))  # three segments, 608 bytes
    for pos in range(len(blob)):
        tampered = bytearray(blob)
        tampered[pos] ^= 0x01
        # Header bytes break the key/nonce for every segment; others only their own.
        expected = 0 if pos < SEG else pos // SEG
        assert _consume_until_error(bytes(tampered)) == expected, pos


@pytest.mark.parametrize(
    "garbage", [b"\x00", os.urandom(TAG), os.urandom(SEG), os.urandom(SEG + 3)],
    ids=["nul", "tag", "segment", "segment+3"],  # stable names: random bytes differ per run
)
@pytest.mark.parametrize("size", [0, FIRST_PT, FIRST_PT + 5])
def test_trailing_data_is_rejected(garbage: bytes, size: int) -> None:
    _consume_until_error(encrypt(os.urandom(size)) + garbage)


def test_appending_a_copy_of_the_stream_is_rejected() -> None:
    blob = encrypt(MULTI)
    _consume_until_error(blob + blob)


def test_wrong_associated_data_key_or_segment_size() -> None:
    blob = encrypt(MULTI)
    with pytest.raises(DecryptionError):
        decrypt(blob, ad=AD + b"x")
    with pytest.raises(DecryptionError):
        decrypt(blob, ad=b"")
    with pytest.raises(DecryptionError):
        decrypt(blob, ikm=os.urandom(32))
    with pytest.raises(DecryptionError):
        decrypt(blob, seg=SEG + 16)


@pytest.mark.parametrize("blob", [b"", bytes([HEADER_SIZE]), bytes([41]) + bytes(80)])
def test_malformed_streams(blob: bytes) -> None:
    _consume_until_error(blob)


def test_other_stream_spliced_in_is_rejected() -> None:
    a = split_segments(encrypt(MULTI))
    b = split_segments(encrypt(MULTI))
    assert _consume_until_error(b"".join([a[0], b[1], *a[2:]])) == 1


def test_encryption_is_lazy() -> None:
    pulled = 0

    def source() -> Iterator[bytes]:
        nonlocal pulled
        for _ in range(1000):
            pulled += 1
            yield bytes(100)

    pieces = StreamEncryptor(IKM, AD, segment_size=SEG).encrypt_segments(source())
    next(pieces)  # header
    next(pieces)  # first segment needs 200 bytes + 1 byte of look-ahead
    assert pulled == 3


@pytest.mark.parametrize("chunk", [64 * 1024, 10007])
def test_constant_memory_64_mib(chunk: int) -> None:
    seg = DEFAULT_SEGMENT_SIZE
    count = 64 * 1024 * 1024 // chunk
    block = os.urandom(chunk)  # allocated before tracing; reused for every chunk
    expected = hashlib.sha256()
    for _ in range(count):
        expected.update(block)

    def source() -> Iterator[bytes]:
        for _ in range(count):
            yield block

    got = hashlib.sha256()
    tracemalloc.start()
    try:
        enc = StreamEncryptor(IKM, AD, segment_size=seg)
        for plain in decrypt_stream(IKM, AD, enc.encrypt_segments(source()), segment_size=seg):
            got.update(plain)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got.digest() == expected.digest()
    # Encryptor and decryptor chained: each holds a buffer plus one output segment.
    assert peak < 6 * seg, f"peak {peak} bytes for {seg}-byte segments"


def test_encrypt_alone_constant_memory() -> None:
    seg = DEFAULT_SEGMENT_SIZE
    block = os.urandom(10007)
    tracemalloc.start()
    try:
        enc = StreamEncryptor(IKM, AD, segment_size=seg)
        total = sum(len(c) for c in enc.encrypt_segments(block for _ in range(6707)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 64 * 1024 * 1024
    # Our buffer + the segment being produced + the consumer's previous one.
    assert peak < 4 * seg, f"peak {peak} bytes for {seg}-byte segments"


# --- Tink interoperability -------------------------------------------------

tink = pytest.importorskip("tink")


def _tink_primitive(ikm: bytes, seg: int) -> object:
    from tink import secret_key_access, streaming_aead
    from tink.proto import aes_gcm_hkdf_streaming_pb2, common_pb2, tink_pb2

    streaming_aead.register()
    params = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingParams(
        ciphertext_segment_size=seg, derived_key_size=32, hkdf_hash_type=common_pb2.SHA256
    )
    key = aes_gcm_hkdf_streaming_pb2.AesGcmHkdfStreamingKey(version=0, params=params, key_value=ikm)
    keyset = tink_pb2.Keyset(
        primary_key_id=42,
        key=[
            tink_pb2.Keyset.Key(
                key_data=tink_pb2.KeyData(
                    type_url="type.googleapis.com/google.crypto.tink.AesGcmHkdfStreamingKey",
                    value=key.SerializeToString(),
                    key_material_type=tink_pb2.KeyData.SYMMETRIC,
                ),
                status=tink_pb2.ENABLED,
                key_id=42,
                output_prefix_type=tink_pb2.RAW,
            )
        ],
    )
    handle = tink.proto_keyset_format.parse(keyset.SerializeToString(), secret_key_access.TOKEN)
    return handle.primitive(streaming_aead.StreamingAead)


class _KeepOpen(io.BytesIO):
    def close(self) -> None:  # Tink closes the destination; keep the bytes readable
        pass


INTEROP = [
    (SEG, 0),
    (SEG, FIRST_PT),
    (SEG, FIRST_PT + 4 * PT),
    (SEG, 5000),
    (4096, 3 * 4096 + 5),
    (DEFAULT_SEGMENT_SIZE, 3 * DEFAULT_SEGMENT_SIZE + 999),
]


@pytest.mark.parametrize(("seg", "size"), INTEROP)
def test_tink_decrypts_our_ciphertext(seg: int, size: int) -> None:
    ikm = os.urandom(32)
    data = os.urandom(size)
    blob = encrypt(data, seg=seg, ikm=ikm, chunks=[data[i : i + 777] for i in range(0, size, 777)])
    primitive = _tink_primitive(ikm, seg)
    with primitive.new_decrypting_stream(io.BytesIO(blob), AD) as stream:  # type: ignore[attr-defined]
        assert stream.read() == data


@pytest.mark.parametrize(("seg", "size"), INTEROP)
def test_we_decrypt_tink_ciphertext(seg: int, size: int) -> None:
    ikm = os.urandom(32)
    data = os.urandom(size)
    primitive = _tink_primitive(ikm, seg)
    out = _KeepOpen()
    with primitive.new_encrypting_stream(out, AD) as stream:  # type: ignore[attr-defined]
        for i in range(0, size, 1000):
            stream.write(data[i : i + 1000])
    blob = out.getvalue()
    assert len(blob) == len(encrypt(data, seg=seg, ikm=ikm))
    assert decrypt(blob, seg=seg, ikm=ikm) == data
    with pytest.raises(DecryptionError):
        decrypt(blob, seg=seg, ikm=ikm, ad=b"other")


def test_tink_rejects_our_tampered_ciphertext() -> None:
    ikm = os.urandom(32)
    blob = bytearray(encrypt(MULTI, ikm=ikm))
    blob[SEG + 5] ^= 1
    primitive = _tink_primitive(ikm, SEG)
    with (
        pytest.raises(tink.TinkError),
        primitive.new_decrypting_stream(  # type: ignore[attr-defined]
            io.BytesIO(bytes(blob)), AD
        ) as stream,
    ):
        stream.read()
