"""KEK providers backed by files: a writable local keyring and a read-only secret.

Both wrap DEKs with AES key wrap (RFC 3394) as explained in ``crypto.envelope``,
which also defines ``WrappedKey``, ``KeyProvider`` and ``new_data_key``; they
are re-exported here so ``crypto.keys`` offers the whole key-management API.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import re
import secrets
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

from crypto.envelope import (
    DEK_SIZE,
    KEK_SIZE,
    KeyProvider,
    WrappedKey,
    check_dek,
    check_wrapped,
    new_data_key,
)
from crypto.errors import CryptoError, DecryptionError, KeyUnavailable

__all__ = [
    "KeyProvider",
    "LocalKeyFileProvider",
    "SecretFileProvider",
    "WrappedKey",
    "new_data_key",
]

_MAX_KEYRING_BYTES = 1 << 20
_KEYRING_FORMAT = "mdo-keyring-v1"
_VERSION_RE = re.compile(r"[1-9][0-9]{0,17}")


def _parse_version(text: str) -> int:
    if not _VERSION_RE.fullmatch(text):
        raise ValueError("bad version")
    return int(text)


def _parse_key(text: str) -> bytes:
    key = base64.b64decode(text.strip(), validate=True)
    if len(key) != KEK_SIZE:
        raise ValueError("bad key length")
    return key


class _FileKeyring:
    """Shared logic for keyrings read from a file.

    Every operation stats the path and re-reads the file when its identity or
    ctime changed, so rotations by other processes, secret updates and
    loosened permissions (chmod changes ctime) are noticed on the next call.
    """

    _follow_symlinks = True
    # Permission bits that make the file unacceptable.
    _forbidden_mode = 0o077

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._lock = threading.RLock()
        self._keys: dict[int, bytes] = {}
        self._stamp: tuple[int, int, int, int] | None = None

    def _parse(self, data: bytes) -> dict[int, bytes]:
        raise NotImplementedError

    def _read(self) -> dict[int, bytes]:
        flags = os.O_RDONLY | os.O_CLOEXEC
        if not self._follow_symlinks:
            flags |= os.O_NOFOLLOW
        try:
            fd = os.open(self._path, flags)
        except FileNotFoundError:
            raise KeyUnavailable(f"keyring file {self._path} does not exist") from None
        except OSError as exc:
            raise KeyUnavailable(f"cannot open keyring file {self._path}: {exc.strerror}") from None
        try:
            # Check the opened descriptor, not the path, so a swap cannot race us.
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise KeyUnavailable(f"keyring {self._path} is not a regular file")
            mode = stat.S_IMODE(st.st_mode)
            if mode & self._forbidden_mode:
                raise KeyUnavailable(
                    f"refusing keyring {self._path}: mode {mode:04o} gives access to "
                    f"group/other (forbidden bits {self._forbidden_mode:04o}); "
                    "restrict it, e.g. chmod 600"
                )
            with os.fdopen(os.dup(fd), "rb") as fh:
                data = fh.read(_MAX_KEYRING_BYTES + 1)
        finally:
            os.close(fd)
        if len(data) > _MAX_KEYRING_BYTES:
            raise KeyUnavailable(f"keyring {self._path} is implausibly large")
        keys = self._parse(data)
        if not keys:
            raise KeyUnavailable(f"keyring {self._path} holds no keys")
        self._keys = keys
        self._stamp = (st.st_dev, st.st_ino, st.st_size, st.st_ctime_ns)
        return dict(keys)

    def _refresh(self) -> dict[int, bytes]:
        """Return the current keys, re-reading the file if it changed on disk."""
        with self._lock:
            try:
                st = os.stat(self._path, follow_symlinks=self._follow_symlinks)
            except OSError:
                st = None
            if st is None or self._stamp != (st.st_dev, st.st_ino, st.st_size, st.st_ctime_ns):
                return self._read()
            return dict(self._keys)

    def current_version(self) -> int:
        """Return the highest KEK version; ``KeyUnavailable`` if unreadable."""
        return max(self._refresh())

    def versions(self) -> list[int]:
        """Return all KEK versions, ascending; ``KeyUnavailable`` if unreadable."""
        return sorted(self._refresh())

    def wrap(self, dek: bytes) -> WrappedKey:
        """Wrap a 32-byte DEK with RFC 3394 under the current KEK version.

        Contract: ``ValueError`` for a DEK that is not 32 bytes; the result
        unwraps only with the same KEK version.
        """
        check_dek(dek)
        keys = self._refresh()
        version = max(keys)
        return WrappedKey(version, aes_key_wrap(keys[version], dek))

    def unwrap(self, wrapped: WrappedKey) -> bytes:
        """Return the DEK in ``wrapped``.

        Contract: ``KeyUnavailable`` for an unknown/retired version,
        ``DecryptionError`` if the blob is malformed or fails its integrity check.
        """
        check_wrapped(wrapped)
        key = self._refresh().get(wrapped.kek_version)
        if key is None:
            raise KeyUnavailable(f"KEK version {wrapped.kek_version} is not available")
        try:
            dek = aes_key_unwrap(key, wrapped.blob)
        except InvalidUnwrap:
            raise DecryptionError("wrapped key failed its integrity check") from None
        if len(dek) != DEK_SIZE:
            raise DecryptionError("wrapped key has the wrong length")
        return dek


class LocalKeyFileProvider(_FileKeyring):
    """A writable KEK keyring in a local JSON file (owner-only, mode 0600).

    File format: ``{"format": "mdo-keyring-v1", "keys": {"1": "<base64 32
    bytes>", ...}}``; the highest version is current.

    Contract:

    * ``create=True`` creates a missing file with one fresh KEK (version 1):
      missing parent directory created 0700, file written 0600 to a temp file
      opened with ``O_EXCL`` and published with ``link()`` so that concurrent
      starters never observe a half-written keyring (losers load the winner's).
    * Refuses (``KeyUnavailable``) a missing file when ``create=False``, a
      symlink, a non-regular file, any group/other permission bit, or a
      malformed file. The check is done on the opened descriptor.
    * ``rotate``/``retire`` re-read the file under an exclusive ``flock`` on a
      sidecar lock file and replace it atomically (temp file 0600, fsync,
      ``os.replace``), so concurrent processes on one host never lose a version.
      Other processes pick up changes on their next call (stat-based reload).
    * KEKs are held in process memory while the provider lives; Python cannot
      reliably zero them, so protect the process (no core dumps, no swap).
    """

    _follow_symlinks = False
    _forbidden_mode = 0o077

    def __init__(self, path: Path, *, create: bool) -> None:
        super().__init__(path)
        if create and not self._path.exists():
            self._create()
        with self._lock:
            self._read()

    def _parse(self, data: bytes) -> dict[int, bytes]:
        try:
            doc = json.loads(data)
            if not isinstance(doc, dict) or doc.get("format") != _KEYRING_FORMAT:
                raise ValueError("bad format tag")
            raw = doc["keys"]
            if not isinstance(raw, dict):
                raise ValueError("bad keys")
            if not all(isinstance(k, str) for k in raw.values()):
                raise ValueError("bad key value")
            return {_parse_version(v): _parse_key(k) for v, k in raw.items()}
        except (ValueError, KeyError, TypeError, binascii.Error):
            # Never echo file contents: they contain keys.
            raise KeyUnavailable(f"keyring {self._path} is malformed") from None

    @staticmethod
    def _serialize(keys: dict[int, bytes]) -> bytes:
        doc = {
            "format": _KEYRING_FORMAT,
            "keys": {str(v): base64.b64encode(k).decode("ascii") for v, k in sorted(keys.items())},
        }
        return json.dumps(doc, indent=1).encode("ascii") + b"\n"

    def _write_temp(self, keys: dict[int, bytes]) -> Path:
        tmp = self._path.with_name(f".{self._path.name}.{secrets.token_hex(8)}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(tmp, flags, 0o600)
        try:
            os.fchmod(fd, 0o600)  # independent of the umask
            with os.fdopen(os.dup(fd), "wb") as fh:
                fh.write(self._serialize(keys))
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        os.close(fd)
        return tmp

    def _fsync_dir(self) -> None:
        fd = os.open(self._path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _create(self) -> None:
        parent = self._path.parent
        try:
            if not parent.exists():
                parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(parent, 0o700)  # mkdir's mode is filtered by the umask
            tmp = self._write_temp({1: secrets.token_bytes(KEK_SIZE)})
            try:
                os.link(tmp, self._path)
            except FileExistsError:
                pass  # another process created it first; we load theirs
            finally:
                tmp.unlink(missing_ok=True)
            self._fsync_dir()
        except OSError as exc:
            raise KeyUnavailable(f"cannot create keyring {self._path}: {exc.strerror}") from None

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        lock_path = self._path.with_name(f".{self._path.name}.lock")
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(lock_path, flags, 0o600)
        except OSError as exc:
            raise KeyUnavailable(f"cannot lock keyring {self._path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def _replace(self, keys: dict[int, bytes]) -> None:
        try:
            tmp = self._write_temp(keys)
            try:
                os.replace(tmp, self._path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            self._fsync_dir()
        except OSError as exc:
            raise KeyUnavailable(f"cannot write keyring {self._path}: {exc.strerror}") from None
        self._read()

    def rotate(self) -> int:
        """Add a fresh random KEK as version max+1, persist atomically, return it.

        Contract: on return the new version is durable on disk and current;
        all previous versions still unwrap. ``KeyUnavailable`` on I/O failure
        (the keyring is then unchanged).
        """
        with self._lock, self._file_lock():
            keys = self._read()
            version = max(keys) + 1
            keys[version] = secrets.token_bytes(KEK_SIZE)
            self._replace(keys)
            return version

    def retire(self, version: int) -> None:
        """Remove KEK ``version`` from the file (atomically).

        Contract: the caller guarantees no stored DEK is wrapped under it;
        afterwards unwrapping such DEKs raises ``KeyUnavailable``. Retiring the
        current version raises ``CryptoError``; an unknown version raises
        ``KeyUnavailable``.
        """
        with self._lock, self._file_lock():
            keys = self._read()
            if version not in keys:
                raise KeyUnavailable(f"KEK version {version} is not available")
            if version == max(keys):
                raise CryptoError("refusing to retire the current KEK version; rotate first")
            del keys[version]
            self._replace(keys)


class SecretFileProvider(_FileKeyring):
    """A read-only KEK keyring from a mounted secret file.

    Intended for Kubernetes secrets or systemd credentials. Format: UTF-8
    text, one ``VERSION:BASE64KEY`` per line, where VERSION is a positive
    decimal integer and BASE64KEY is standard base64 of exactly 32 bytes.
    Blank lines and lines starting with ``#`` are ignored; duplicate versions
    are an error. The highest version is current.

    Contract:

    * The file may be a symlink (Kubernetes mounts are), but the target must be
      a regular file with no group-write and no "other" permission bits
      (0400 or 0440; for Kubernetes set ``defaultMode: 0400``/``0440``),
      otherwise ``KeyUnavailable``. Missing or malformed file:
      ``KeyUnavailable``; error messages never quote file contents.
    * The file is re-read whenever it changes on disk, so adding a line makes
      the new version current on every replica without a restart.
    * ``rotate``/``retire`` raise ``CryptoError``: rotate by adding a line
      with a higher version, retire by removing the line.
    """

    _follow_symlinks = True
    _forbidden_mode = 0o027

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        with self._lock:
            self._read()

    def _parse(self, data: bytes) -> dict[int, bytes]:
        keys: dict[int, bytes] = {}
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise KeyUnavailable(f"secret file {self._path} is not UTF-8") from None
        for lineno, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                ver_text, sep, key_text = line.partition(":")
                if not sep:
                    raise ValueError("no separator")
                version = _parse_version(ver_text.strip())
                key = _parse_key(key_text)
            except (ValueError, binascii.Error):
                raise KeyUnavailable(
                    f"secret file {self._path} line {lineno}: expected VERSION:BASE64KEY "
                    f"with a 32-byte key"
                ) from None
            if version in keys:
                raise KeyUnavailable(f"secret file {self._path}: duplicate version {version}")
            keys[version] = key
        return keys

    def rotate(self) -> int:
        """Always raises ``CryptoError``: the secret file is managed externally."""
        raise CryptoError("rotate by adding a line to the secret file")

    def retire(self, version: int) -> None:
        """Always raises ``CryptoError``: the secret file is managed externally."""
        raise CryptoError("retire by removing the line from the secret file")
