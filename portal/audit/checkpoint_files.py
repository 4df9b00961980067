"""Checkpoint files: one per signed checkpoint, written once, never replaced.

The export directory holds the log's checkpoints outside the database
(``portal.audit.ledger`` writes them after the sealing transaction commits,
``portal audit export-checkpoints`` writes any that are missing). A file is
created exclusively and durably (fsync, then the directory); a different note
for a size already exported is a split view.
"""

from __future__ import annotations

import os
from pathlib import Path

from portal.db import new_id
from portal.durable import fsync_directory


class SplitView(Exception):
    """A different checkpoint note for a size that was already exported."""


def checkpoint_file_name(size: int) -> str:
    return f"checkpoint-{size:020d}.txt"


def write_checkpoint_file(directory: Path, size: int, note: str) -> Path:
    """Create one checkpoint file exclusively; an existing identical file is left alone.

    The note is written to a temporary file and hard-linked into place: like
    ``O_EXCL`` the link fails if the name exists, and unlike it nobody ever sees
    a half-written file. A different note already there is never replaced:
    raises SplitView.
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / checkpoint_file_name(size)
    temporary = directory / f".{target.name}.{os.getpid()}.{new_id()}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(note)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, target)
        except FileExistsError:
            if target.read_text(encoding="utf-8") != note:
                raise SplitView(f"{target} already holds a different checkpoint for {size} "
                                "records: two histories were signed (a split view); "
                                "the file is kept as it is") from None
            return target
    finally:
        temporary.unlink(missing_ok=True)
    fsync_directory(directory)
    return target

