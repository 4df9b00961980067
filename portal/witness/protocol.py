"""The add-checkpoint request of C2SP tlog-witness, and the witness's answer.

    POST <prefix>/add-checkpoint
    old <size>\\n  <base64 proof line>\\n ...  \\n  <signed checkpoint note>

200 with a cosignature line when the checkpoint extends the latest one this
witness cosigned for that log; 409 (body: the latest size, ``text/x.tlog.size``)
when ``old`` is not that size or the same size comes with another root; 422
when the consistency proof does not verify; 403 when no trusted log key signed
it; 404 for an unknown log; 400 for a malformed request.
Specification: https://c2sp.org/tlog-witness.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from portal.audit.checkpoint import CheckpointError, open_note, parse_checkpoint
from portal.audit.cosignature import cosign
from portal.audit.proof import MAX_PROOF, verify_consistency
from portal.witness.store import WitnessStore

SIZE_TYPE = "text/x.tlog.size"
_OLD_RE = re.compile(r"old (0|[1-9][0-9]{0,19})")
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Witness:
    name: str
    key: Ed25519PrivateKey
    logs: Sequence[tuple[str, Ed25519PublicKey]]  # (origin = key name, log public key)
    store: WitnessStore
    clock: Callable[[], float] = time.time


def _parse(body: bytes) -> tuple[int, list[bytes], str] | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    header, sep, note = text.partition("\n\n")
    lines = header.split("\n")
    match = _OLD_RE.fullmatch(lines[0])
    if not sep or match is None or len(lines) - 1 > MAX_PROOF:
        return None
    proof = []
    for line in lines[1:]:
        try:
            node = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(node) != 32:
            return None
        proof.append(node)
    return int(match.group(1)), proof, note


def add_checkpoint(witness: Witness, body: bytes) -> Answer:
    """Check one add-checkpoint request and, when it holds, cosign and remember it."""
    if len(body) > MAX_BODY:
        return Answer(400, "request too large\n")
    parsed = _parse(body)
    if parsed is None:
        return Answer(400, "malformed add-checkpoint request\n")
    old, proof, note = parsed
    try:
        unverified = parse_checkpoint(note.partition("\n\n")[0] + "\n")
    except CheckpointError:
        return Answer(400, "malformed checkpoint\n")
    keys = [(name, key) for name, key in witness.logs if name == unverified.origin]
    if not keys:
        return Answer(404, "unknown log\n")
    try:
        text = open_note(note, keys)
        checkpoint = parse_checkpoint(text)
    except CheckpointError:
        return Answer(403, "no valid signature from the log's key\n")
    if old > checkpoint.size:
        return Answer(400, "old size is larger than the checkpoint\n")
    with witness.store.locked():
        latest = witness.store.latest(checkpoint.origin)
        latest_size = latest.size if latest else 0
        if old != latest_size:
            return Answer(409, f"{latest_size}\n", SIZE_TYPE)
        if latest is not None and old == checkpoint.size and latest.root != checkpoint.root:
            witness.store.keep_evidence(body)
            return Answer(409, f"{latest_size}\n", SIZE_TYPE)
        old_root = latest.root if latest else b""
        if not verify_consistency(old, checkpoint.size, old_root, checkpoint.root, proof):
            witness.store.keep_evidence(body)
            return Answer(422, "the consistency proof does not verify\n")
        timestamp = int(witness.clock())
        line = cosign(text, witness.key, witness.name, timestamp)
        witness.store.save(checkpoint.origin, text + "\n" + _signature_lines(note) + line,
                           checkpoint.size, timestamp)
    return Answer(200, line)


def _signature_lines(note: str) -> str:
    lines = note.partition("\n\n")[2]
    return lines if lines.endswith("\n") else lines + "\n"


def latest_note(witness: Witness, origin: str) -> Answer:
    """The latest cosigned checkpoint of a log (the log's and this witness's signatures)."""
    if not any(name == origin for name, _ in witness.logs):
        return Answer(404, "unknown log\n")
    latest = witness.store.latest(origin)
    if latest is None:
        return Answer(404, "no checkpoint cosigned yet\n")
    return Answer(200, latest.note)
