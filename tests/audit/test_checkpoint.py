"""Signed notes and checkpoints (C2SP signed-note, tlog-checkpoint) with Ed25519."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    format_checkpoint,
    key_id,
    open_checkpoint,
    open_checkpoint_any,
    open_note,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_key,
)

# --- published vector -------------------------------------------------------------------------
# From golang.org/x/mod/sumdb/note, file note_test.go (TestNewVerifier, TestSign,
# TestOpen), github.com/golang/mod. The signer key is Go's "PRIVATE+KEY+<name>+<id>+
# base64(0x01 || Ed25519 seed)" format; Ed25519 is deterministic, so signing the same
# text must reproduce the published note byte for byte.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)
ORIGIN = "mdo.example/audit-log"


def _peter_private() -> Ed25519PrivateKey:
    raw = base64.b64decode(PETER_SKEY.split("+", 4)[4])
    assert raw[0] == 0x01
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


def _key(n: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"test key %d" % n).digest())


def test_go_vector_verifier_key() -> None:
    name, public = parse_verifier_key(PETER_VKEY)
    assert name == "PeterNeumann"
    assert verifier_key(name, public) == PETER_VKEY
    assert verifier_key("PeterNeumann", _peter_private().public_key()) == PETER_VKEY
    assert key_id("PeterNeumann", public).hex() == "c74f20a3"


def test_go_vector_sign_reproduces_published_note() -> None:
    note = sign_note(TEXT, _peter_private(), "PeterNeumann")
    assert note == TEXT + "\n" + PETER_SIG


def test_go_vector_open() -> None:
    peter = parse_verifier_key(PETER_VKEY)
    enoch = parse_verifier_key(ENOCH_VKEY)
    both = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    # One known key: the other signature is from an unknown key and is ignored.
    assert open_note(both, [peter]) == TEXT
    assert open_note(both, [enoch]) == TEXT
    assert open_note(both, [peter, enoch]) == TEXT
    assert open_note(both.encode("utf-8"), [peter]) == TEXT
    with pytest.raises(CheckpointError, match="no valid signature"):
        open_note(both, [])
    # Go's invalid-signature case: four base64 characters inserted (byte offset 60).
    raw = PETER_SIG.encode("utf-8")
    corrupted = (raw[:60] + b"ABCD" + raw[60:]).decode("utf-8")
    with pytest.raises(CheckpointError, match="invalid signature"):
        open_note(TEXT + "\n" + corrupted, [peter])


@pytest.mark.parametrize(
    "message",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + "— Bad Name " + PETER_SIG.split(" ")[-1],
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG * 101,
    ],
)
def test_go_vector_malformed_notes(message: str) -> None:
    with pytest.raises(CheckpointError):
        open_note(message, [parse_verifier_key(PETER_VKEY)])


def test_invalid_utf8_note_is_rejected() -> None:
    message = b"\xff" + (TEXT + "\n" + PETER_SIG).encode("utf-8")
    with pytest.raises(CheckpointError, match="UTF-8"):
        open_note(message, [parse_verifier_key(PETER_VKEY)])


def test_go_vector_mangled_verifier_keys_are_rejected() -> None:
    # Port of Go's TestNewVerifier: every proper substring and every single-character
    # increment of the verifier key must be rejected.
    bad: list[str] = []
    for i in range(len(PETER_VKEY) + 1):
        for j in range(i + 1, len(PETER_VKEY) + 1):
            if (i, j) != (0, len(PETER_VKEY)):
                bad.append(PETER_VKEY[i:j])
    for i, ch in enumerate(PETER_VKEY):
        bad.append(PETER_VKEY[:i] + chr(ord(ch) + 1) + PETER_VKEY[i + 1 :])
    bad.append("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
    bad.append("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
    accepted = []
    for vkey in bad:
        try:
            parse_verifier_key(vkey)
        except ValueError:
            continue
        accepted.append(vkey)
    assert accepted == []


# --- checkpoints ------------------------------------------------------------------------------

ROOT = hashlib.sha256(b"some root").digest()


def test_checkpoint_format_and_round_trip() -> None:
    key = _key(1)
    note = sign_checkpoint(ORIGIN, 1234, ROOT, key, ORIGIN)
    body = f"{ORIGIN}\n1234\n{base64.b64encode(ROOT).decode()}\n"
    assert note.startswith(body + "\n— " + ORIGIN + " ")
    assert note.endswith("\n")
    assert note.count("\n") == 5
    blob = base64.b64decode(note.splitlines()[-1].split(" ")[-1])
    assert len(blob) == 4 + 64
    assert blob[:4] == key_id(ORIGIN, key.public_key())
    assert format_checkpoint(ORIGIN, 1234, ROOT) == body
    assert open_checkpoint(note, key.public_key(), ORIGIN) == Checkpoint(ORIGIN, 1234, ROOT)


def test_key_id_definition() -> None:
    public = _key(1).public_key()
    raw = base64.b64decode(verifier_key("k", public).split("+", 2)[2])[1:]
    expected = hashlib.sha256(b"k\n\x01" + raw).digest()[:4]
    assert key_id("k", public) == expected


def test_empty_tree_and_extensions_round_trip() -> None:
    key = _key(2)
    empty = hashlib.sha256(b"").digest()
    note = sign_checkpoint(ORIGIN, 0, empty, key, "k")
    assert open_checkpoint(note, key.public_key(), "k") == Checkpoint(ORIGIN, 0, empty)
    note = sign_checkpoint(ORIGIN, 7, ROOT, key, "k", extensions=["time 1772350000"])
    opened = open_checkpoint(note, key.public_key(), "k")
    assert opened.extensions == ("time 1772350000",)
    assert opened.size == 7


def _replace_body_line(note: str, index: int, value: str) -> str:
    text, sigs = note.split("\n\n")
    lines = text.split("\n")
    lines[index] = value
    return "\n".join(lines) + "\n\n" + sigs


def test_tampered_checkpoints_are_rejected() -> None:
    key = _key(3)
    public = key.public_key()
    note = sign_checkpoint(ORIGIN, 1234, ROOT, key, ORIGIN)
    other_root = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    signature_line = note.rstrip("\n").split("\n")[-1]
    blob = bytearray(base64.b64decode(signature_line.split(" ")[-1]))
    blob[10] ^= 0x01
    flipped = note.replace(signature_line.split(" ")[-1], base64.b64encode(blob).decode())
    tampered = {
        "origin": _replace_body_line(note, 0, "evil.example/log"),
        "size": _replace_body_line(note, 1, "1233"),
        "root": _replace_body_line(note, 2, other_root),
        "signature": flipped,
        "key name in signature line": note.replace(f"— {ORIGIN} ", "— other.example/log "),
        "extra body line": _replace_body_line(note, 2, f"{other_root}\nextension"),
    }
    for what, bad in tampered.items():
        assert bad != note, what
        with pytest.raises(CheckpointError):
            open_checkpoint(bad, public, ORIGIN)
    # Right note, wrong trust settings.
    with pytest.raises(CheckpointError):
        open_checkpoint(note, _key(4).public_key(), ORIGIN)
    with pytest.raises(CheckpointError):
        open_checkpoint(note, public, "other.example/log")
    with pytest.raises(CheckpointError, match="expected"):
        open_checkpoint(note, public, ORIGIN, origin="other.example/log")


def test_forged_signature_with_same_name_is_rejected() -> None:
    note = sign_checkpoint(ORIGIN, 5, ROOT, _key(5), ORIGIN)
    with pytest.raises(CheckpointError, match="no valid signature"):
        open_checkpoint(note, _key(6).public_key(), ORIGIN)


def test_unknown_cosignature_is_ignored_but_bad_known_signature_rejects() -> None:
    log_key, witness = _key(7), _key(8)
    note = sign_checkpoint(ORIGIN, 9, ROOT, log_key, ORIGIN)
    text = note.split("\n\n")[0] + "\n"
    witness_line = sign_note(text, witness, "witness.example/w1").split("\n\n")[1]
    cosigned = note + witness_line
    assert open_checkpoint(cosigned, log_key.public_key(), ORIGIN).size == 9
    both = [(ORIGIN, log_key.public_key()), ("witness.example/w1", witness.public_key())]
    assert open_checkpoint_any(cosigned, both).size == 9
    # A second, broken signature line from the trusted key rejects the whole note.
    log_line = note.split("\n\n")[1]
    blob = bytearray(base64.b64decode(log_line.split(" ")[-1]))
    blob[-1] ^= 0x80
    broken = log_line.replace(log_line.split(" ")[-1], base64.b64encode(blob).decode() + "\n")
    assert broken != log_line
    with pytest.raises(CheckpointError, match="invalid signature"):
        open_checkpoint(note + broken, log_key.public_key(), ORIGIN)


@pytest.mark.parametrize(
    "body",
    [
        f"{ORIGIN}\n007\n{base64.b64encode(ROOT).decode()}\n",  # leading zeros
        f"{ORIGIN}\n-1\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n+1\n{base64.b64encode(ROOT).decode()}\n",
        f"{ORIGIN}\n١٢\n{base64.b64encode(ROOT).decode()}\n",  # non-ASCII digits
        f"{ORIGIN}\n18446744073709551616\n{base64.b64encode(ROOT).decode()}\n",  # 2**64
        f"{ORIGIN}\n12\n{base64.b64encode(ROOT[:31]).decode()}\n",  # short root
        f"{ORIGIN}\n12\n{base64.b64encode(ROOT).decode().rstrip('=')}\n",  # no padding
        f"{ORIGIN}\n12\n",  # no root line
        f"\n12\n{base64.b64encode(ROOT).decode()}\n",  # empty origin
        f"{ORIGIN}\n12\n{base64.b64encode(ROOT).decode()}\n\next\n",  # empty extension line
    ],
)
def test_validly_signed_but_malformed_checkpoint_bodies(body: str) -> None:
    key = _key(9)
    note = sign_note(body, key, "k")
    with pytest.raises(CheckpointError):
        open_checkpoint(note, key.public_key(), "k")


def test_non_canonical_base64_root_is_rejected() -> None:
    key = _key(10)
    root_b64 = base64.b64encode(ROOT).decode()
    # The last character before '=' carries 2 unused bits; setting one gives the same bytes.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = root_b64[-2]
    sloppy = root_b64[:-2] + alphabet[alphabet.index(last) + 1] + "="
    assert base64.b64decode(sloppy) == ROOT
    note = sign_note(f"{ORIGIN}\n12\n{sloppy}\n", key, "k")
    with pytest.raises(CheckpointError):
        open_checkpoint(note, key.public_key(), "k")


def test_signing_input_checks() -> None:
    key = _key(11)
    with pytest.raises(CheckpointError):
        sign_checkpoint("two\nlines", 1, ROOT, key, "k")
    with pytest.raises(CheckpointError):
        sign_checkpoint(ORIGIN, -1, ROOT, key, "k")
    with pytest.raises(CheckpointError):
        sign_checkpoint(ORIGIN, 1, ROOT[:16], key, "k")
    with pytest.raises(CheckpointError):
        sign_checkpoint(ORIGIN, 1, ROOT, key, "k", extensions=[""])
    with pytest.raises(CheckpointError):
        sign_checkpoint("bell\x07", 1, ROOT, key, "k")
    for bad_name in ("", "a b", "a+b", "a\u00a0b"):
        with pytest.raises(ValueError, match="key name"):
            sign_checkpoint(ORIGIN, 1, ROOT, key, bad_name)
    with pytest.raises(CheckpointError):
        sign_note("no newline", key, "k")


def test_verifier_key_round_trip_and_errors() -> None:
    public = _key(12).public_key()
    vkey = verifier_key(ORIGIN, public)
    name, parsed = parse_verifier_key(vkey)
    assert name == ORIGIN
    assert verifier_key(name, parsed) == vkey
    name_part, hex_part, key_part = vkey.split("+", 2)
    not_ed25519 = base64.b64encode(bytes([2]) + bytes(32)).decode()
    for bad in (
        f"{name_part}+{hex_part}",
        f"other.example+{hex_part}+{key_part}",
        f"{name_part}+{hex_part}0+{key_part}",
        f"{name_part}+{hex_part}+{key_part}+x",
        f"{name_part}+{hex_part}+{not_ed25519}",
    ):
        with pytest.raises(ValueError, match="malformed verifier key"):
            parse_verifier_key(bad)
