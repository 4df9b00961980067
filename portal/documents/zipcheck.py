"""Walk a ZIP archive as it streams past, without keeping it: bombs and fakes refused.

DOCX, XLSX, ODT and ODS are ZIP archives. Their central directory sits at the
end, and uploads are encrypted segment by segment as they arrive, so the
archive is checked in one forward pass instead: each local entry header is
parsed, deflated data is really inflated (output counted, then dropped) so
the *actual* unpacked size counts rather than what the headers claim, and the
central directory must name exactly the entries that came by. Memory stays
at one header plus zlib's window.

Refused: more than ``max_entries`` entries, more than ``max_unpacked`` bytes
unpacked in total or more than ``MAX_RATIO`` times what came in, encryption,
methods other than stored/deflate, ZIP64, sizes that disagree with the data,
anything after the end record.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

LOCAL = b"PK\x03\x04"
CENTRAL = b"PK\x01\x02"
END = b"PK\x05\x06"
DESCRIPTOR = b"PK\x07\x08"
_INFLATE_STEP = 64 * 1024
_MAX_NAME = 1024
_MAX_EXTRA = 8192
MAX_RATIO = 100
_RATIO_FLOOR = 16 * 1024 * 1024


class ZipRejected(ValueError):
    """Not an acceptable archive; ``code`` says why (safe to log)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class _Entry:
    name: str
    flags: int
    method: int
    compressed: int
    unpacked: int
    inflater: zlib._Decompress | None = None
    consumed: int = 0
    produced: int = 0
    first_bytes: bytearray = field(default_factory=bytearray)


class ZipWalker:
    """Feed an archive's bytes in order; ``finish()`` once the input ends."""

    def __init__(self, *, max_entries: int, max_unpacked: int) -> None:
        self.max_entries = max_entries
        self.max_unpacked = max_unpacked
        self.names: list[str] = []
        # The first bytes of each entry (ODF's ``mimetype`` must be checked).
        self.heads: dict[str, bytes] = {}
        self.unpacked = 0
        self.fed = 0
        self._buf = bytearray()
        self._entry: _Entry | None = None
        self._central: list[str] = []
        self._state = "local"

    def feed(self, data: bytes) -> None:
        self.fed += len(data)
        self._buf += data
        while self._step():
            pass

    def finish(self) -> None:
        if self._state != "done" or self._buf:
            raise ZipRejected("zip_truncated")
        if sorted(self._central) != sorted(self.names):
            raise ZipRejected("zip_directory_mismatch")

    # -- the state machine; each step returns whether it made progress ------

    def _step(self) -> bool:
        if self._state == "local":
            return self._local_or_central()
        if self._state == "data":
            return self._data()
        if self._state == "descriptor":
            return self._descriptor()
        if self._state == "central":
            return self._central_entry()
        if self._state == "done" and self._buf:
            raise ZipRejected("zip_trailing_data")
        return False

    def _local_or_central(self) -> bool:
        if len(self._buf) < 4:
            return False
        signature = bytes(self._buf[:4])
        if signature == CENTRAL or (signature == END and not self.names):
            self._state = "central"
            return True
        if signature != LOCAL:
            raise ZipRejected("zip_malformed")
        if len(self._buf) < 30:
            return False
        (_, flags, method, _, _, _, compressed, unpacked, name_len,
         extra_len) = struct.unpack("<HHHHHIIIHH", self._buf[4:30])
        if name_len > _MAX_NAME or extra_len > _MAX_EXTRA:
            raise ZipRejected("zip_malformed")
        if len(self._buf) < 30 + name_len + extra_len:
            return False
        name = self._buf[30:30 + name_len].decode("utf-8", errors="replace")
        del self._buf[:30 + name_len + extra_len]
        if flags & 0x1:
            raise ZipRejected("zip_encrypted")
        if 0xFFFFFFFF in (compressed, unpacked):
            raise ZipRejected("zip64_unsupported")
        if method not in (0, 8) or (method == 0 and flags & 0x8):
            raise ZipRejected("zip_method")
        if len(self.names) >= self.max_entries:
            raise ZipRejected("zip_too_many_entries")
        self.names.append(name)
        entry = _Entry(name, flags, method, compressed, unpacked)
        if method == 8:
            entry.inflater = zlib.decompressobj(-15)
        self._entry = entry
        self._state = "data"
        return True

    def _data(self) -> bool:
        entry = self._entry
        assert entry is not None
        if entry.inflater is None:  # stored: the header's size is the truth
            take = min(len(self._buf), entry.compressed - entry.consumed)
            self._count(entry, bytes(self._buf[:take]))
            entry.consumed += take
            del self._buf[:take]
            if entry.consumed < entry.compressed:
                return False
            return self._entry_done(entry)
        if not self._buf:
            return False
        data = bytes(self._buf)
        self._buf.clear()
        inflater = entry.inflater
        while data and not inflater.eof:
            try:
                out = inflater.decompress(data, _INFLATE_STEP)
            except zlib.error:
                raise ZipRejected("zip_corrupt") from None
            self._count(entry, out)
            data = inflater.unconsumed_tail
        if not inflater.eof:
            return False
        # Deflate ends itself: what follows its end belongs to the next record.
        self._buf[:0] = inflater.unused_data
        return self._entry_done(entry)

    def _count(self, entry: _Entry, out: bytes) -> None:
        entry.produced += len(out)
        self.unpacked += len(out)
        if self.unpacked > self.max_unpacked:
            raise ZipRejected("zip_bomb")
        # Real documents compress XML maybe 20:1; bombs reach 1000:1 at once.
        if self.unpacked > _RATIO_FLOOR and self.unpacked > MAX_RATIO * self.fed:
            raise ZipRejected("zip_bomb")
        if len(entry.first_bytes) < 128:
            entry.first_bytes += out[:128 - len(entry.first_bytes)]

    def _entry_done(self, entry: _Entry) -> bool:
        self.heads[entry.name] = bytes(entry.first_bytes)
        if entry.flags & 0x8:
            self._state = "descriptor"
            return True
        if entry.unpacked != entry.produced:
            raise ZipRejected("zip_size_mismatch")
        self._entry = None
        self._state = "local"
        return True

    def _descriptor(self) -> bool:
        entry = self._entry
        assert entry is not None
        if len(self._buf) < 16:
            return False
        start = 4 if bytes(self._buf[:4]) == DESCRIPTOR else 0
        _crc, _compressed, unpacked = struct.unpack("<III", self._buf[start:start + 12])
        del self._buf[:start + 12]
        if unpacked != entry.produced & 0xFFFFFFFF:
            raise ZipRejected("zip_size_mismatch")
        self._entry = None
        self._state = "local"
        return True

    def _central_entry(self) -> bool:
        if len(self._buf) < 4:
            return False
        signature = bytes(self._buf[:4])
        if signature == CENTRAL:
            if len(self._buf) < 46:
                return False
            name_len, extra_len, comment_len = struct.unpack("<HHH", self._buf[28:34])
            total = 46 + name_len + extra_len + comment_len
            if len(self._buf) < total:
                return False
            self._central.append(self._buf[46:46 + name_len].decode("utf-8", errors="replace"))
            if len(self._central) > self.max_entries:
                raise ZipRejected("zip_too_many_entries")
            del self._buf[:total]
            return True
        if signature != END:
            raise ZipRejected("zip_malformed")
        if len(self._buf) < 22:
            return False
        (comment_len,) = struct.unpack("<H", self._buf[20:22])
        if len(self._buf) < 22 + comment_len:
            return False
        del self._buf[:22 + comment_len]
        self._state = "done"
        return True
