"""The content checks on their own: zip walking, limits, markup, file names, Markdown."""

from __future__ import annotations

import io
import zipfile

import pytest

from portal.documents import markdown
from portal.documents.filetypes import ContentCheck, FileRejected, sanitise_filename, type_for
from portal.documents.zipcheck import ZipRejected, ZipWalker
from tests.documents.helpers import docx, odf


def walk(data: bytes, *, chunk: int = 7, max_entries: int = 100,
         max_unpacked: int = 1 << 30) -> ZipWalker:
    walker = ZipWalker(max_entries=max_entries, max_unpacked=max_unpacked)
    for i in range(0, len(data), chunk):
        walker.feed(data[i:i + chunk])
    walker.finish()
    return walker


def streamed_zip(parts: dict[str, bytes]) -> bytes:
    """Written to an unseekable stream: sizes come after the data (data descriptors)."""

    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: bytes) -> int:  # type: ignore[override]
            self.data += b
            return len(b)

    out = Unseekable()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            with archive.open(name, "w") as member:
                member.write(data)
    return bytes(out.data)


@pytest.mark.parametrize("chunk", [1, 7, 4096, 1 << 20])
def test_walker_counts_real_unpacked_sizes(chunk: int) -> None:
    parts = {"a.xml": b"x" * 100_000, "b.xml": b"hello", "c/d.xml": bytes(300)}
    for data in (docx(parts), docx(parts, method=zipfile.ZIP_STORED), streamed_zip(parts)):
        walker = walk(data, chunk=chunk)
        assert walker.names == list(parts)
        assert walker.unpacked == sum(map(len, parts.values()))


def test_walker_limits() -> None:
    parts = {f"{i}.xml": b"x" * 1000 for i in range(10)}
    with pytest.raises(ZipRejected, match="zip_too_many_entries"):
        walk(docx(parts), max_entries=9)
    with pytest.raises(ZipRejected, match="zip_bomb"):
        walk(docx(parts), max_unpacked=9_999)
    walk(docx(parts), max_entries=10, max_unpacked=10_000)


def test_walker_refuses_lies_and_leftovers() -> None:
    good = docx({"a.xml": b"content " * 100})
    with pytest.raises(ZipRejected, match="zip_trailing_data"):
        walk(good + b"<html>")
    with pytest.raises(ZipRejected):
        walk(good[:-10])
    # The local header claims another unpacked size than the data has.
    at = good.index(b"PK\x03\x04") + 22
    lying = good[:at] + (1).to_bytes(4, "little") + good[at + 4:]
    with pytest.raises(ZipRejected, match="zip_size_mismatch"):
        walk(lying)
    encrypted = bytearray(good)
    encrypted[6] |= 0x01
    with pytest.raises(ZipRejected, match="zip_encrypted"):
        walk(bytes(encrypted))


def check(filename: str, data: bytes, chunk: int = 3) -> None:
    file_type = type_for(filename)
    assert file_type is not None
    content = ContentCheck(file_type)
    for i in range(0, len(data), chunk):
        content.feed(data[i:i + chunk])
    content.finish()


def test_content_checks_hold_across_chunk_boundaries() -> None:
    check("a.docx", docx())
    check("a.odt", odf(b"application/vnd.oasis.opendocument.text"))
    check("a.txt", "Zoë, 3 < 4\n".encode())
    with pytest.raises(FileRejected, match="markup"):
        check("a.txt", b"   \n<svg/>", chunk=1)
    with pytest.raises(FileRejected, match="not_text"):
        check("a.txt", "é".encode()[:1] + b"abc")
    with pytest.raises(FileRejected, match="content_mismatch"):
        check("a.odt", odf(b"application/vnd.oasis.opendocument.spreadsheet"))


def test_file_names() -> None:
    assert type_for("a.PDF") is not None and type_for(".pdf") is None
    assert type_for("a.pdf.exe") is None and type_for("a.svg") is None
    assert sanitise_filename("../../x/..\\y\\verslag.pdf") == "verslag.pdf"
    assert sanitise_filename("a\u202eb\u200b\x00c.pdf") == "abc.pdf"
    assert sanitise_filename("\u00a0 ..  spaced\tname .txt ") == "spacedname .txt"
    long = sanitise_filename("x" * 500 + ".docx")
    assert len(long) <= 180 and long.endswith(".docx")
    assert sanitise_filename("../") == ""


def test_markdown_is_a_safe_subset() -> None:
    html = str(markdown.render("# Kop\n- **vet** en *schuin*\n- <b onclick=x>\n\n"
                               "[link](javascript:alert(1)) <img src=x onerror=alert(1)>\n"
                               "regel twee"))
    assert "<h3>Kop</h3>" in html
    assert "<li><strong>vet</strong> en <em>schuin</em></li>" in html
    assert "<b onclick" not in html and "&lt;b onclick=x&gt;" in html
    assert "<img" not in html and "href" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;<br>\nregel twee" in html
    assert str(markdown.render("1. een\n2. twee")) == "<ol>\n<li>een</li>\n<li>twee</li>\n</ol>"
    assert str(markdown.render("a * b * c")) == "<p>a * b * c</p>"
