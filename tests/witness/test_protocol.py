"""The witness protocol against its own process (``python -m portal.witness serve`` on a
loopback port): cosignatures verify with the witness's key, inconsistent checkpoints are
refused as C2SP tlog-witness says, and the witness remembers across a restart."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.audit.checkpoint import CheckpointError, sign_checkpoint, verifier_key
from portal.audit.cosignature import open_cosignature, parse_cosigner_vkey
from portal.audit.merkle import tree_head
from portal.audit.proof import consistency_ranges
from tests.witness.process import WitnessProcess

ORIGIN = "portal.school.example/access-log"
LOG_KEY = Ed25519PrivateKey.generate()
LEAVES = [hashlib.sha256(b"\x00" + str(i).encode()).digest() for i in range(64)]


def note(size: int, leaves: list[bytes] = LEAVES, key: Ed25519PrivateKey = LOG_KEY) -> str:
    return sign_checkpoint(ORIGIN, size, tree_head(leaves[:size]), key, ORIGIN)


def request(old: int, size: int, leaves: list[bytes] = LEAVES,
            key: Ed25519PrivateKey = LOG_KEY) -> bytes:
    proof = [tree_head(leaves[lo:hi]) for lo, hi in consistency_ranges(old, size)]
    lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + note(size, leaves, key)).encode()


@pytest.fixture(scope="module")
def witness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WitnessProcess]:
    process = WitnessProcess(tmp_path_factory.mktemp("witness"),
                             [verifier_key(ORIGIN, LOG_KEY.public_key())]).start()
    yield process
    process.stop()


def add(witness: WitnessProcess, body: bytes) -> httpx.Response:
    return httpx.post(f"{witness.url}/add-checkpoint", content=body, timeout=10)


def test_the_witness_cosigns_what_extends_what_it_saw_and_refuses_the_rest(
        witness: WitnessProcess) -> None:
    name, public_key = parse_cosigner_vkey(witness.vkey)
    first = add(witness, request(0, 5))
    assert first.status_code == 200
    text = note(5).partition("\n\n")[0] + "\n"
    cosignature = open_cosignature(text, first.text, name, public_key)
    assert cosignature.line == first.text
    # Another key does not vouch for it.
    with pytest.raises(CheckpointError):
        open_cosignature(text, first.text, name, Ed25519PrivateKey.generate().public_key())

    # A stale old size: 409 with the latest size as text/x.tlog.size.
    stale = add(witness, request(0, 9))
    assert (stale.status_code, stale.text) == (409, "5\n")
    assert stale.headers["content-type"].startswith("text/x.tlog.size")

    # A history that rewrote leaf 3 cannot prove it extends the cosigned tree: 422.
    rewritten = list(LEAVES)
    rewritten[3] = hashlib.sha256(b"\x00rewritten").digest()
    assert add(witness, request(5, 9, rewritten)).status_code == 422
    # The same size with another root is a split view: 409.
    split = add(witness, request(5, 5, rewritten))
    assert (split.status_code, split.text) == (409, "5\n")
    assert list((witness.data_dir / "evidence").iterdir())  # the refused requests are kept

    # The honest extension is cosigned; the same checkpoint again is fine too.
    assert add(witness, request(5, 9)).status_code == 200
    assert add(witness, request(9, 9)).status_code == 200

    latest = httpx.get(f"{witness.url}/latest", params={"origin": ORIGIN}, timeout=10)
    assert latest.status_code == 200
    assert latest.text.startswith(note(9).partition("\n\n")[0])
    open_cosignature(note(9).partition("\n\n")[0] + "\n", latest.text, name, public_key)


def test_bad_requests(witness: WitnessProcess) -> None:
    stranger = Ed25519PrivateKey.generate()
    assert add(witness, request(0, 3, key=stranger)).status_code == 403
    other_log = sign_checkpoint("other.example/log", 3, tree_head(LEAVES[:3]), LOG_KEY,
                                "other.example/log")
    assert add(witness, ("old 0\n\n" + other_log).encode()).status_code == 404
    assert add(witness, b"old 01\n\n" + note(3).encode()).status_code == 400
    assert add(witness, b"nonsense").status_code == 400
    assert add(witness, b"old 0\nnot-base64!\n\n" + note(3).encode()).status_code == 400
    assert add(witness, ("old 60\n\n" + note(3)).encode()).status_code == 400
    assert add(witness, b"old 0\n\n" + b"\xff" * 10).status_code == 400
    too_long = "old 1\n" + (base64.b64encode(bytes(32)).decode() + "\n") * 64 + "\n"
    assert add(witness, (too_long + note(3)).encode()).status_code == 400
    assert add(witness, b"x" * (70 * 1024)).status_code == 400
    assert httpx.get(f"{witness.url}/add-checkpoint", timeout=10).status_code == 405
    assert httpx.get(f"{witness.url}/latest", params={"origin": "nobody"},
                     timeout=10).status_code == 404


def test_the_witness_remembers_across_a_restart(tmp_path: Path) -> None:
    process = WitnessProcess(tmp_path, [verifier_key(ORIGIN, LOG_KEY.public_key())]).start()
    try:
        assert add(process, request(0, 7)).status_code == 200
        process.stop()
        process.start()
        again = add(process, request(0, 8))
        assert (again.status_code, again.text) == (409, "7\n")
        assert add(process, request(7, 8)).status_code == 200
    finally:
        process.stop()


def test_racing_requests_never_roll_the_witness_back(tmp_path: Path) -> None:
    """Several clients send growing checkpoints from the same old size at once: exactly
    one is cosigned, the others get 409, and the stored size is the cosigned one."""
    from concurrent.futures import ThreadPoolExecutor

    process = WitnessProcess(tmp_path, [verifier_key(ORIGIN, LOG_KEY.public_key())]).start()
    try:
        assert add(process, request(0, 4)).status_code == 200
        sizes = list(range(5, 21))
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda n: add(process, request(4, n)), sizes))
        won = [n for n, answer in zip(sizes, answers, strict=True) if answer.status_code == 200]
        assert len(won) == 1
        assert {a.status_code for a in answers} == {200, 409}
        assert {a.text for a in answers if a.status_code == 409} == {f"{won[0]}\n"}
        assert process.cosigned_sizes() == [4, won[0]]
    finally:
        process.stop()
