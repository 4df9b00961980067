"""Where the encrypted contents of files live: one object per document version.

A ``BlobStore`` holds opaque objects: the Tink streaming ciphertext of one
version (header and segments, exactly the bytes the ``document_segment`` rows
held before migration 0036), under a random name that says nothing about the
file. The database keeps the metadata, the wrapped data key and the object's
store and name (``document_version.blob_store`` / ``blob_name``); a version
whose ``blob_store`` is NULL still has its segments as database rows.

Two stores:

* ``DirBlobStore`` (the embedded default, ``<data dir>/blobs``): each object is
  written to a temporary file, fsynced, renamed into place atomically and the
  directory fsynced, so an object exists whole or not at all;
* ``S3BlobStore``: any S3-compatible object store through ``boto3`` (several
  hosts share it); large objects go up as a multipart upload that is only
  completed at the end, so a half-sent object never becomes visible.

Both stream both ways: a write consumes an iterator of ciphertext pieces, a
read yields pieces of ``READ_CHUNK`` bytes. Objects are never trusted: the
reader decrypts with ``decrypt_stream_exact``, so a missing, cut, extended or
altered object fails closed like a tampered segment row. An unreachable store
raises ``BlobStoreUnavailable`` (an ``OSError``: the request boundary answers
503); an object that is not there raises ``BlobMissing``.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from portal.durable import Writeback, fsync_directory

if TYPE_CHECKING:
    from portal.settings import Settings

log = logging.getLogger("portal.documents.blobs")

# Ciphertext per read and per S3 part: bounded memory whatever the file size.
READ_CHUNK = 1024 * 1024
PART_SIZE = 8 * 1024 * 1024  # S3's minimum part is 5 MiB
# Temporary files older than this belong to a write that died (crash, kill).
TEMP_GRACE_SECONDS = 3600.0

DIR = "dir"
S3 = "s3"
DATABASE = "database"  # not a store: the segment rows of before migration 0036
STORE_KINDS = (DIR, S3, DATABASE)


class BlobStoreUnavailable(OSError):
    """The store cannot be reached or refused the operation: fail closed (503)."""


class BlobMissing(Exception):
    """The object is not in the store: the version's content is lost or was removed."""


def new_blob_name() -> str:
    """A random object name (128 bits): never derived from the file or its case."""
    return secrets.token_hex(16)


class BlobStore(Protocol):
    kind: str

    def write(self, name: str, pieces: Iterable[bytes]) -> int:
        """Store ``pieces`` as object ``name`` atomically; returns its size.

        When ``pieces`` (or the store) raises, nothing is left visible under
        ``name`` and the exception propagates."""

    def open(self, name: str) -> Iterator[bytes]:
        """The object's bytes in pieces; ``BlobMissing`` at once if it is not there."""

    def delete(self, name: str) -> None:
        """Remove the object; an object already gone is not an error."""

    def exists(self, name: str) -> bool: ...

    def sweep_temporary(self) -> int:
        """Remove what writes that died left behind; returns how many."""


def _checked_name(name: str) -> str:
    if len(name) != 32 or any(c not in "0123456789abcdef" for c in name):
        raise ValueError("not a blob name")
    return name


class DirBlobStore:
    """Objects as files under ``root`` (``ab/abcdef…``), written with fsync and rename."""

    kind = DIR

    def __init__(self, root: Path) -> None:
        self.root = root
        self._temp = root / ".tmp"

    def _path(self, name: str) -> Path:
        name = _checked_name(name)
        return self.root / name[:2] / name

    def write(self, name: str, pieces: Iterable[bytes]) -> int:
        final = self._path(name)
        try:
            self._temp.mkdir(parents=True, exist_ok=True, mode=0o700)
            final.parent.mkdir(exist_ok=True, mode=0o700)
            temp = self._temp / f"{name}.{secrets.token_hex(4)}"
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise BlobStoreUnavailable(f"blob directory not writable: {exc.strerror}") from exc
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                writeback = Writeback(fd)
                for piece in pieces:
                    out.write(piece)  # a piece is 64 KiB: straight through the buffer
                    size += len(piece)
                    writeback.written(size)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, final)
            fsync_directory(final.parent)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return size

    def open(self, name: str) -> Iterator[bytes]:
        try:
            handle = self._path(name).open("rb")
        except FileNotFoundError:
            raise BlobMissing(name) from None
        except OSError as exc:
            raise BlobStoreUnavailable(f"blob not readable: {exc.strerror}") from exc
        return _Chunks(handle.read, handle.close)

    def delete(self, name: str) -> None:
        path = self._path(name)
        try:
            path.unlink(missing_ok=True)
            fsync_directory(path.parent)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise BlobStoreUnavailable(f"blob not deletable: {exc.strerror}") from exc

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def sweep_temporary(self) -> int:
        if not self._temp.is_dir():
            return 0
        cutoff = time.time() - TEMP_GRACE_SECONDS
        swept = 0
        for temp in self._temp.iterdir():
            try:
                if temp.stat().st_mtime < cutoff:
                    temp.unlink()
                    swept += 1
            except FileNotFoundError:
                continue
        return swept


class _Chunks(Iterator[bytes]):
    """An open object read in ``READ_CHUNK`` pieces; closed at its end, on an error,
    or when dropped unread (a download refused or aborted before it started)."""

    def __init__(self, read: Callable[[int], bytes], close: Callable[[], None]) -> None:
        self._read: Callable[[int], bytes] | None = read
        self._close = close

    def __next__(self) -> bytes:
        if self._read is None:
            raise StopIteration
        try:
            chunk = self._read(READ_CHUNK)
        except BaseException:
            self.close()
            raise
        if not chunk:
            self.close()
            raise StopIteration
        return chunk

    def close(self) -> None:
        if self._read is not None:
            self._read = None
            self._close()

    def __del__(self) -> None:
        self.close()




class S3BlobStore:
    """Objects in one bucket (under ``prefix``) of an S3-compatible object store."""

    kind = S3

    def __init__(self, *, bucket: str, endpoint: str = "", region: str = "",
                 access_key_id: str = "", secret_access_key: str = "", prefix: str = "",
                 client: Any = None) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        # The body is not hashed into the request signature (SHA-256 over every
        # byte, ~0.7 ms per MiB of the portal's CPU): it is AEAD ciphertext,
        # authenticated end to end against its version on every read, which
        # a signature only checked in transit cannot add to. Headers, key and
        # credentials stay signed.
        self._client = client or boto3.client(
            "s3", endpoint_url=endpoint or None, region_name=region or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=Config(connect_timeout=5, read_timeout=30,
                          retries={"max_attempts": 3, "mode": "standard"},
                          s3={"addressing_style": "path",
                              "payload_signing_enabled": False},
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"))

    def _key(self, name: str) -> str:
        return self.prefix + _checked_name(name)

    def write(self, name: str, pieces: Iterable[bytes]) -> int:
        key = self._key(name)
        buffer = bytearray()
        size = 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            # One part goes up in the background while the next one fills, so
            # the file keeps arriving (and being encrypted) while the store
            # takes the previous part: at most two parts in memory.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3-part") as sender:
                sending: Future[dict[str, Any]] | None = None
                for piece in pieces:
                    buffer += piece
                    size += len(piece)
                    if len(buffer) >= PART_SIZE:
                        if upload_id is None:
                            upload_id = self._call("create_multipart_upload",
                                                   Bucket=self.bucket, Key=key)["UploadId"]
                        if sending is not None:
                            parts.append(sending.result())
                        sending = sender.submit(self._part, key, upload_id, len(parts) + 1,
                                                buffer)
                        buffer = bytearray()  # the part in flight is not copied
                if sending is not None:
                    parts.append(sending.result())
            # Leaving the block waited for a part still in flight, also when
            # ``pieces`` raised: the abort below never races a part upload.
            if upload_id is None:
                self._call("put_object", Bucket=self.bucket, Key=key, Body=buffer)
                return size
            if buffer:
                parts.append(self._part(key, upload_id, len(parts) + 1, buffer))
            self._call("complete_multipart_upload", Bucket=self.bucket, Key=key,
                       UploadId=upload_id, MultipartUpload={"Parts": parts})
            upload_id = None
            return size
        finally:
            if upload_id is not None:  # never completed: nothing becomes visible
                try:
                    self._call("abort_multipart_upload", Bucket=self.bucket, Key=key,
                               UploadId=upload_id)
                except OSError:
                    log.warning("could not abort a multipart upload; a lifecycle rule ends it")

    def _part(self, key: str, upload_id: str, number: int,
              body: bytearray) -> dict[str, Any]:
        answer = self._call("upload_part", Bucket=self.bucket, Key=key, UploadId=upload_id,
                            PartNumber=number, Body=body)
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def open(self, name: str) -> Iterator[bytes]:
        answer = self._call("get_object", Bucket=self.bucket, Key=self._key(name), name=name)
        body = answer["Body"]

        def read(size: int) -> bytes:
            from botocore.exceptions import BotoCoreError

            try:
                return bytes(body.read(size))
            except (BotoCoreError, OSError) as exc:
                raise BlobStoreUnavailable(
                    f"object store broke off: {type(exc).__name__}") from exc

        return _Chunks(read, body.close)

    def delete(self, name: str) -> None:
        self._call("delete_object", Bucket=self.bucket, Key=self._key(name))

    def exists(self, name: str) -> bool:
        try:
            self._call("head_object", Bucket=self.bucket, Key=self._key(name), name=name)
        except BlobMissing:
            return False
        return True

    def sweep_temporary(self) -> int:
        # Unfinished multipart uploads are aborted by the writer, or by the
        # bucket's lifecycle rule (docs/operations.md) after a crash.
        return 0

    def _call(self, operation: str, name: str | None = None, **params: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._client, operation)(**params)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if name is not None and code in ("NoSuchKey", "404", "NotFound"):
                raise BlobMissing(name) from None
            raise BlobStoreUnavailable(f"object store refused {operation}: {code}") from None
        except BotoCoreError as exc:
            raise BlobStoreUnavailable(
                f"object store unreachable ({operation}): {type(exc).__name__}") from None


class BlobStores:
    """The stores this portal reaches: the configured one for new files, and
    the local directory (always readable, so switching stores strands nothing)."""

    def __init__(self, current: str, stores: Mapping[str, BlobStore]) -> None:
        self.current = current  # DIR, S3 or DATABASE (new files as rows, as before 0036)
        self._stores = dict(stores)

    def get(self, kind: str) -> BlobStore:
        store = self._stores.get(kind)
        if store is None:
            raise BlobStoreUnavailable(f"blob store {kind!r} is not configured")
        return store

    def kinds(self) -> list[str]:
        return list(self._stores)

    @property
    def target(self) -> BlobStore | None:
        """Where new files go; None: into database rows."""
        return None if self.current == DATABASE else self.get(self.current)


def make_blob_stores(settings: Settings) -> BlobStores:
    stores: dict[str, BlobStore] = {DIR: DirBlobStore(settings.effective_blob_dir)}
    if settings.s3_bucket:
        stores[S3] = S3BlobStore(bucket=settings.s3_bucket, endpoint=settings.s3_endpoint,
                                 region=settings.s3_region,
                                 access_key_id=settings.s3_access_key_id,
                                 secret_access_key=settings.s3_secret_access_key,
                                 prefix=settings.s3_prefix)
    return BlobStores(settings.blob_store, stores)
