"""Which files may be uploaded, judged by name AND content while they stream.

The extension picks the one type a file claims to be; the content must then
prove it: magic bytes for PDF, PNG and JPEG, a real Office/ODF archive for
DOCX, XLSX, ODT and ODS (walked for zip bombs as it passes, see
``zipcheck``), and strict UTF-8 without markup for TXT, so that an HTML page
or an SVG image renamed to ``.txt``, ``.png`` or ``.pdf`` is refused. The
media type served on download comes from this table, never from the client.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from portal.documents.zipcheck import ZipRejected, ZipWalker

HEAD_BYTES = 1024
MAX_ZIP_ENTRIES = 2000
MAX_UNPACKED = 512 * 1024 * 1024
MAX_FILENAME = 180


class FileRejected(ValueError):
    """The content is not what the name claims or not acceptable; ``code`` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class FileType:
    code: str
    extensions: tuple[str, ...]
    media_type: str
    magic: bytes = b""
    # Zip-based: entries that must exist; ODF: the exact ``mimetype`` entry.
    required: tuple[str, ...] = ()
    odf_mimetype: bytes = b""

    @property
    def is_zip(self) -> bool:
        return self.magic == b"PK\x03\x04"


TYPES: tuple[FileType, ...] = (
    FileType("pdf", (".pdf",), "application/pdf", magic=b"%PDF-"),
    FileType("docx", (".docx",),
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             magic=b"PK\x03\x04", required=("[Content_Types].xml", "word/document.xml")),
    FileType("xlsx", (".xlsx",),
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             magic=b"PK\x03\x04", required=("[Content_Types].xml", "xl/workbook.xml")),
    FileType("odt", (".odt",), "application/vnd.oasis.opendocument.text", magic=b"PK\x03\x04",
             odf_mimetype=b"application/vnd.oasis.opendocument.text"),
    FileType("ods", (".ods",), "application/vnd.oasis.opendocument.spreadsheet",
             magic=b"PK\x03\x04", odf_mimetype=b"application/vnd.oasis.opendocument.spreadsheet"),
    FileType("png", (".png",), "image/png", magic=b"\x89PNG\r\n\x1a\n"),
    FileType("jpeg", (".jpg", ".jpeg"), "image/jpeg", magic=b"\xff\xd8\xff"),
    FileType("txt", (".txt",), "text/plain; charset=utf-8"),
)
_BY_EXTENSION = {ext: t for t in TYPES for ext in t.extensions}
ALLOWED_EXTENSIONS = tuple(_BY_EXTENSION)

# A text file that starts like a tag (<html, <svg, <!DOCTYPE, <?xml, <!--) is
# markup that a browser or viewer would render; plain notes never start so.
_MARKUP = re.compile(rb"\s*<[A-Za-z!?/]")


def type_for(filename: str) -> FileType | None:
    """The type a (sanitised) file name claims, or None if not allowed."""
    dot = filename.rfind(".")
    return _BY_EXTENSION.get(filename[dot:].lower()) if dot > 0 else None


def sanitise_filename(raw: str) -> str:
    """A file name safe to store and to offer back: no path, no control characters.

    Drops any directory part (``/`` and ``\\``), every control and format
    character (including bidi overrides that disguise extensions), leading
    dots and surrounding whitespace; normalises to NFC and caps the length
    while keeping the extension. May return "" (the caller refuses that).
    """
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[/\\]", name)[-1]
    # Control/format characters go; any kind of space becomes a plain one.
    name = "".join("" if unicodedata.category(ch)[0] == "C"
                   else " " if unicodedata.category(ch)[0] == "Z" else ch for ch in name)
    name = " ".join(name.split()).lstrip(". ").rstrip(" ")
    if len(name) > MAX_FILENAME:
        dot = name.rfind(".")
        ext = name[dot:] if dot > 0 and len(name) - dot <= 10 else ""
        name = name[:MAX_FILENAME - len(ext)].rstrip(" .") + ext
    return name


class ContentCheck:
    """Checks a file's bytes in order as they stream by; raises ``FileRejected``."""

    def __init__(self, file_type: FileType) -> None:
        self.type = file_type
        self._head = bytearray()
        self._head_checked = False
        self._size = 0
        self._zip = ZipWalker(max_entries=MAX_ZIP_ENTRIES, max_unpacked=MAX_UNPACKED) \
            if file_type.is_zip else None
        self._text = codecs.getincrementaldecoder("utf-8")("strict") \
            if file_type.code == "txt" else None

    def feed(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if not self._head_checked:
            # The claimed type is judged by its first bytes before anything else
            # looks at the content (a PDF named .docx is a mismatch, not a bad zip).
            self._head += chunk
            if len(self._head) < HEAD_BYTES:
                return
            self._check_head()
            chunk, self._head = bytes(self._head), bytearray()
        self._inspect(chunk)

    def finish(self) -> None:
        if self._size == 0:
            raise FileRejected("empty")
        if not self._head_checked:
            self._check_head()
            self._inspect(bytes(self._head))
        try:
            if self._text is not None:
                self._text.decode(b"", final=True)
            if self._zip is not None:
                self._zip.finish()
                self._check_archive(self._zip)
        except ZipRejected as exc:
            raise FileRejected(exc.code) from None
        except UnicodeDecodeError:
            raise FileRejected("not_text") from None

    def _inspect(self, chunk: bytes) -> None:
        try:
            if self._zip is not None:
                self._zip.feed(chunk)
            if self._text is not None:
                if b"\x00" in chunk:
                    raise FileRejected("not_text")
                self._text.decode(chunk)
        except ZipRejected as exc:
            raise FileRejected(exc.code) from None
        except UnicodeDecodeError:
            raise FileRejected("not_text") from None

    def _check_head(self) -> None:
        self._head_checked = True
        head = bytes(self._head)
        if not head.startswith(self.type.magic):
            raise FileRejected("content_mismatch")
        if self.type.code == "txt" and _MARKUP.match(head.removeprefix(codecs.BOM_UTF8)):
            raise FileRejected("markup")

    def _check_archive(self, walker: ZipWalker) -> None:
        # ODF: the first entry is ``mimetype``, stored, naming the format.
        if self.type.odf_mimetype and (
                not walker.names or walker.names[0] != "mimetype"
                or walker.heads.get("mimetype") != self.type.odf_mimetype):
            raise FileRejected("content_mismatch")
        missing = [name for name in self.type.required if name not in walker.names]
        if missing:
            raise FileRejected("content_mismatch")
