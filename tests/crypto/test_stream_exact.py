"""``decrypt_stream_exact``: an announced size and segment count never outrun the stream."""

from __future__ import annotations

import pytest

from crypto import DecryptionError, StreamEncryptor, decrypt_stream_exact
from crypto.stream import HEADER_SIZE

SEG = 256
FIRST_PT = SEG - HEADER_SIZE - 16
PT = SEG - 16
IKM = bytes(range(32))
AD = b"mdo case-1 attachment doc-1 v1 content"


def segments_for(size: int) -> int:
    return 1 if size <= FIRST_PT else 1 + -(-(size - FIRST_PT) // PT)


def encrypt(data: bytes) -> list[bytes]:
    """The ciphertext as stored: one piece per segment, the header on the first."""
    pieces = list(StreamEncryptor(IKM, AD, segment_size=SEG).encrypt_segments([data]))
    return [pieces[0] + pieces[1], *pieces[2:]]


def run(stored: list[bytes], size: int, segments: int) -> tuple[bytes, bool]:
    """What a relay under ``Content-Length: size`` would have sent, and whether it ended."""
    sent = bytearray()
    stream = decrypt_stream_exact(IKM, AD, iter(stored), size=size, segments=segments,
                                  segment_size=SEG)
    try:
        for piece in stream:
            sent += piece
            assert len(sent) <= size, "more than the announced size was released"
    except DecryptionError:
        return bytes(sent), False
    return bytes(sent), True


DATA = bytes(range(256)) * 8  # 2048 bytes: 9 segments


def test_honest_stream_is_released_whole() -> None:
    stored = encrypt(DATA)
    assert len(stored) == segments_for(len(DATA))
    assert run(stored, len(DATA), len(stored)) == (DATA, True)


@pytest.mark.parametrize("size", [0, 1, FIRST_PT, FIRST_PT + 1, FIRST_PT + PT])
def test_boundaries(size: int) -> None:
    data = bytes(size)
    stored = encrypt(data)
    assert run(stored, size, segments_for(size)) == (data, True)


@pytest.mark.parametrize("keep", range(1, 9))
def test_truncated_object_never_reaches_the_announced_size(keep: int) -> None:
    stored = encrypt(DATA)
    sent, ended = run(stored[:keep], len(DATA), len(stored))
    assert not ended and len(sent) < len(DATA)


@pytest.mark.parametrize("extra", [b"\0", bytes(SEG), b"x" * 17])
def test_extended_object_never_completes(extra: bytes) -> None:
    stored = encrypt(DATA)
    sent, ended = run([*stored, extra], len(DATA), len(stored))
    assert not ended and len(sent) < len(DATA)


def test_appended_authentic_stream_never_completes() -> None:
    stored = encrypt(DATA)
    sent, ended = run(stored + encrypt(DATA)[1:], len(DATA), len(stored))
    assert not ended and len(sent) < len(DATA)


@pytest.mark.parametrize("cut", [1, FIRST_PT, FIRST_PT + PT, len(DATA) - PT, len(DATA) - 1])
def test_size_lowered_to_any_boundary_is_refused(cut: int) -> None:
    """The attack of issue 16: ``size`` set to a piece boundary used to look complete."""
    stored = encrypt(DATA)
    sent, ended = run(stored, len(DATA) - cut, len(stored))
    assert not ended and len(sent) < len(DATA) - cut


def test_size_raised_is_refused_before_the_last_piece() -> None:
    stored = encrypt(DATA)
    sent, ended = run(stored, len(DATA) + 1, len(stored))
    assert not ended and sent == DATA[:len(sent)] and len(sent) < len(DATA)


@pytest.mark.parametrize("segments", [1, 8, 10])
def test_segment_count_must_match(segments: int) -> None:
    stored = encrypt(DATA)
    sent, ended = run(stored, len(DATA), segments)
    assert not ended and len(sent) < len(DATA)


@pytest.mark.parametrize(("size", "segments"), [(-1, 1), (0, 0), (True, 1), (1, True)])
def test_bad_announcements_are_value_errors(size: int, segments: int) -> None:
    with pytest.raises(ValueError, match="must be a"):
        decrypt_stream_exact(IKM, AD, [], size=size, segments=segments, segment_size=SEG)
