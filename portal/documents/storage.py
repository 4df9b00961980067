"""File contents as Tink streaming ciphertext: one object in a blob store, or
(files stored before migration 0036) one database row per segment.

A blob store object (``portal.documents.blobs``) is exactly the rows'
concatenation, written by ``store_object`` as the encryptor produces it and
read back by ``ciphertext`` in pieces; everything below holds for both.

Writing: plaintext chunks go through ``StreamEncryptor`` (64 KiB segments) and
are handed to a sink a batch of rows at a time (an upload inserts each batch in
a short transaction of its own), so memory stays at a few segments whatever
the file size. Row 0 holds the 40-byte
stream header followed by the first segment, so every row but the last is
exactly one segment (the format's own layout).

Reading: ``plaintext`` reads the rows in small batches, each in a short
transaction of its own, and decrypts them lazily. All rows are read in index
order with no upper bound taken from metadata, so missing, reordered,
duplicated or appended rows all make ``decrypt_stream`` fail. The announced
size (``Content-Length``) and segment count come from unauthenticated columns:
``decrypt_stream_exact`` checks them against the stream's authenticated last
segment and holds the final piece back until it has, so a download whose
stored object or metadata was cut or extended breaks off short, never
complete-looking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from crypto import DEFAULT_SEGMENT_SIZE, DecryptionError, StreamEncryptor, decrypt_stream_exact
from portal.db import unit_of_work
from portal.documents.blobs import BlobMissing, BlobStore, BlobStores
from portal.documents.models import DocumentSegment

SEGMENT_SIZE = DEFAULT_SEGMENT_SIZE
# Rows per INSERT / SELECT: 1 MiB of ciphertext in flight at most.
ROW_BATCH = 16
# Plaintext handed to the server per write: fewer thread hops, still 1 MiB.
YIELD_BYTES = 1024 * 1024


SegmentRows = list[dict[str, object]]


def store_segments(version_id: str, dek: bytes, associated_data: bytes,
                   chunks: Iterable[bytes], write: Callable[[SegmentRows], None], *,
                   batch: int = ROW_BATCH) -> int:
    """Encrypt ``chunks`` and pass the ciphertext to ``write`` as segment rows.

    Returns the row count. ``write`` gets at most ``batch`` rows per call,
    in index order. Exceptions raised by ``chunks`` (a refused or broken
    upload) or by ``write`` propagate; the rows written so far are then the
    caller's to delete.
    """
    pieces = StreamEncryptor(dek, associated_data, segment_size=SEGMENT_SIZE) \
        .encrypt_segments(chunks)
    header = next(pieces)
    rows: SegmentRows = []
    count = 0
    for piece in pieces:
        rows.append({"version_id": version_id, "idx": count,
                     "data": header + piece if count == 0 else piece})
        count += 1
        if len(rows) == batch:
            write(rows)
            rows = []
    if rows:
        write(rows)
    return count


def store_object(store: BlobStore, name: str, dek: bytes, associated_data: bytes,
                 chunks: Iterable[bytes]) -> int:
    """Encrypt ``chunks`` into object ``name`` of ``store``; returns the segment count.

    The object becomes visible only whole (the store writes atomically);
    exceptions of ``chunks`` or of the store propagate with nothing left."""
    pieces = StreamEncryptor(dek, associated_data, segment_size=SEGMENT_SIZE) \
        .encrypt_segments(chunks)
    count = [-1]  # the header is not a segment

    def counted() -> Iterator[bytes]:
        for piece in pieces:
            count[0] += 1
            yield piece

    store.write(name, counted())
    return count[0]


def insert_segments(db: Session, rows: SegmentRows) -> None:
    """One multi-row INSERT (executemany) for a batch of segment rows."""
    db.execute(insert(DocumentSegment), rows)


def _ciphertext(sessions: sessionmaker[Session], version_id: str) -> Iterator[bytes]:
    after = -1
    while True:
        with unit_of_work(sessions) as db:
            batch = db.execute(
                select(DocumentSegment.idx, DocumentSegment.data)
                .where(DocumentSegment.version_id == version_id, DocumentSegment.idx > after)
                .order_by(DocumentSegment.idx).limit(ROW_BATCH)).all()
        for idx, data in batch:
            after = idx
            yield data
        if len(batch) < ROW_BATCH:
            return


def ciphertext(sessions: sessionmaker[Session], blobs: BlobStores, version_id: str,
               blob_store: str | None, blob_name: str | None) -> Iterator[bytes]:
    """A version's ciphertext in pieces, from its object or (before 0036) its rows.

    An object is opened at once: ``BlobMissing`` if it is not there,
    ``BlobStoreUnavailable`` (an ``OSError``: 503) if the store is down, both
    before the caller has sent anything."""
    if blob_store is None or blob_name is None:
        return _ciphertext(sessions, version_id)
    return blobs.get(blob_store).open(blob_name)


def plaintext(source: Iterable[bytes], dek: bytes,
              associated_data: bytes, on_failure: Callable[[str], None], *, size: int,
              segments: int) -> Iterator[bytes]:
    """Decrypted file contents in pieces of about ``YIELD_BYTES``, exactly ``size`` bytes.

    ``source`` is the ciphertext (``ciphertext``). On an authentication
    failure anywhere, or a store that breaks off, ``on_failure`` runs with the
    reason (it records and logs) and the error propagates (``DecryptionError``, or an
    ``OSError``): the caller must abort whatever it was sending, never finish
    it cleanly.
    """
    pending: list[bytes] = []
    buffered = 0
    try:
        for piece in decrypt_stream_exact(dek, associated_data, source, size=size,
                                          segments=segments, segment_size=SEGMENT_SIZE):
            pending.append(piece)
            buffered += len(piece)
            if buffered >= YIELD_BYTES:
                yield b"".join(pending)
                pending, buffered = [], 0
    except (DecryptionError, BlobMissing):
        on_failure("decryption_failed")
        raise
    except OSError:  # the store broke off mid-stream
        on_failure("store_unavailable")
        raise
    finally:
        close = getattr(source, "close", None)
        if close is not None:  # an object's file or connection, at once
            close()
    if pending:
        yield b"".join(pending)
