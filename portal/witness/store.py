"""The witness's memory: per log, the latest checkpoint it cosigned, in a directory.

Checking a request against the stored state and storing the new state happen
under one lock (a thread lock and ``flock`` on the directory's lock file), as
the spec requires: otherwise two requests could roll the stored size back.
The state file is replaced atomically (write, fsync, rename). Refused requests
with a valid log signature are kept under ``evidence/``: they may prove that
the log showed someone a different history.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from portal.audit.checkpoint import CheckpointError, parse_checkpoint


@dataclass(frozen=True)
class Latest:
    """The latest cosigned checkpoint of one log: its size, root and the cosigned note."""

    size: int
    root: bytes
    note: str


class WitnessStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        (directory / "evidence").mkdir(exist_ok=True, mode=0o700)
        self._lock = threading.Lock()

    def _path(self, origin: str) -> Path:
        return self.directory / f"{hashlib.sha256(origin.encode()).hexdigest()}.note"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock, open(self.directory / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def latest(self, origin: str) -> Latest | None:
        try:
            note = self._path(origin).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        text = note.partition("\n\n")[0] + "\n"
        try:
            checkpoint = parse_checkpoint(text)
        except CheckpointError as exc:
            raise RuntimeError(f"the witness's state for {origin!r} is corrupt: {exc}") from exc
        return Latest(checkpoint.size, checkpoint.root, note)

    def save(self, origin: str, note: str, size: int, timestamp: int) -> None:
        """Store the new latest checkpoint, and note it in ``cosigned.log`` (what was
        cosigned when: the operator's own record)."""
        with open(self.directory / "cosigned.log", "a", encoding="utf-8") as journal:
            journal.write(f"{timestamp} {hashlib.sha256(origin.encode()).hexdigest()[:16]} "
                          f"{size}\n")
        target = self._path(origin)
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(note)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(target)
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def keep_evidence(self, body: bytes) -> None:
        name = hashlib.sha256(body).hexdigest()
        (self.directory / "evidence" / f"{name}.request").write_bytes(body)
