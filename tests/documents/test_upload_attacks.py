"""Hostile uploads: too large, wrong content, zip bombs, disguised markup, broken bodies.

Every refusal must leave nothing behind: no document, version, segment or
data key, and a ``failed`` access record that says why.
"""

from __future__ import annotations

import io
import socket
import time
import zipfile
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from portal.audit.models import AccessRecord
from tests.documents.helpers import (
    CASE_ID,
    CASE_PATH,
    PDF,
    PNG,
    counts,
    docx,
    logged_in,
    odf,
    stream_download,
    upload,
)
from tests.harness import PortalClient, Running

HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


def failed_reasons(running: Running) -> list[str | None]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord.reason).where(
            AccessRecord.event_type == "document.upload", AccessRecord.outcome == "failed")))


def refused(running: Running, client: PortalClient, content: bytes, filename: str,
            reason: str, message: str) -> None:
    before = counts(running)
    response = upload(client, content, filename)
    assert response.status_code == 400, response.text
    assert message in response.text and "Er is niets opgeslagen" in response.text
    assert counts(running) == before
    assert failed_reasons(running)[-1] == reason


@pytest.mark.parametrize(("filename", "content", "reason", "message"), [
    ("foto.png", PDF, "content_mismatch", "past niet bij de extensie"),
    ("verslag.pdf", PNG, "content_mismatch", "past niet bij de extensie"),
    ("verslag.docx", PDF, "content_mismatch", "past niet bij de extensie"),
    ("rapport.odt", odf(b"application/vnd.oasis.opendocument.spreadsheet"),
     "content_mismatch", "past niet bij de extensie"),
    ("rapport.docx", docx({"xl/workbook.xml": b"<workbook/>",
                           "[Content_Types].xml": b"<Types/>"}),
     "content_mismatch", "past niet bij de extensie"),
    ("pagina.html", HTML, "invalid_form", "Alleen PDF-"),
    ("tekening.svg", SVG, "invalid_form", "Alleen PDF-"),
    ("programma.exe", b"MZ\x90\x00", "invalid_form", "Alleen PDF-"),
    ("geen-extensie", b"tekst", "invalid_form", "Alleen PDF-"),
    ("leeg.txt", b"", "empty", "Het bestand is leeg"),
    ("binair.txt", b"tekst\x00\x01\x02", "not_text", "platte UTF-8-tekst"),
    ("latin1.txt", "caf\u00e9".encode("latin-1"), "not_text", "platte UTF-8-tekst"),
])
def test_content_must_match_the_name(running_sqlite: Running, filename: str, content: bytes,
                                     reason: str, message: str) -> None:
    refused(running_sqlite, logged_in(running_sqlite, "ib"), content, filename, reason, message)


@pytest.mark.parametrize(("filename", "content", "reason"), [
    ("notities.txt", HTML, "markup"),
    ("notities.txt", b"\xef\xbb\xbf \n\t<html><body>hoi</body></html>", "markup"),
    ("notities.txt", SVG, "markup"),
    ("notities.txt", b"<svg onload=alert(1)>", "markup"),
    ("notities.txt", b"<!-- --><script>alert(1)</script>", "markup"),
    ("foto.png", SVG, "content_mismatch"),
    ("foto.jpg", HTML, "content_mismatch"),
    ("verslag.pdf", HTML, "content_mismatch"),
    ("verslag.docx", SVG, "content_mismatch"),
])
def test_html_and_svg_disguised_as_allowed_types(running_sqlite: Running, filename: str,
                                                 content: bytes, reason: str) -> None:
    ib = logged_in(running_sqlite, "ib")
    before = counts(running_sqlite)
    response = upload(ib, content, filename, content_type="image/png")
    assert response.status_code == 400
    assert counts(running_sqlite) == before
    assert failed_reasons(running_sqlite)[-1] == reason


def test_zip_bomb_is_refused(running_sqlite: Running) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        with archive.open("word/document.xml", "w") as member:
            for _ in range(64):  # 64 MiB of zeros, about 64 KiB compressed
                member.write(bytes(1024 * 1024))
    bomb = buffer.getvalue()
    assert len(bomb) < 200_000
    refused(running_sqlite, logged_in(running_sqlite, "ib"), bomb, "bom.docx", "zip_bomb",
            "zipbom")


def test_zip_with_too_many_entries_is_refused(running_sqlite: Running) -> None:
    parts = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}
    parts.update({f"word/media/{i}.xml": b"x" for i in range(2001)})
    refused(running_sqlite, logged_in(running_sqlite, "ib"), docx(parts), "veel.docx",
            "zip_too_many_entries", "zipbom")


def test_truncated_archive_is_refused(running_sqlite: Running) -> None:
    document = docx()
    refused(running_sqlite, logged_in(running_sqlite, "ib"), document[:-30], "half.docx",
            "zip_truncated", "zipbom")


@pytest.mark.parametrize(("filename", "content"), [
    ("verslag.docx", docx()),
    ("verslag.docx", docx(method=zipfile.ZIP_STORED)),
    ("lijst.odt", odf(b"application/vnd.oasis.opendocument.text")),
    ("lijst.ods", odf(b"application/vnd.oasis.opendocument.spreadsheet")),
    ("foto.JPEG", b"\xff\xd8\xff\xe0" + bytes(100)),
    ("foto.png", PNG),
    ("brief.pdf", PDF),
    ("notities.txt", b"Gesprek met Sam: 3 < 5 en <geen tag>"),
])
def test_genuine_files_are_accepted(running_sqlite: Running, filename: str,
                                    content: bytes) -> None:
    ib = logged_in(running_sqlite, "ib")
    response = upload(ib, content, filename)
    assert response.status_code == 200, response.text
    document_id = response.text.split(f"{CASE_PATH}/documents/")[1].split('"')[0]
    _, _, body, clean = stream_download(ib, f"{CASE_PATH}/documents/{document_id}/download")
    assert clean and body == content


@pytest.mark.parametrize(("sent", "stored"), [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\Windows\\system.ini.txt", "system.ini.txt"),
    ("/absolute/path/notes.txt", "notes.txt"),
    ("bad\x00name\x1b[31m\x07\x7f\t.txt", "badname[31m.txt"),
    ('quote"d\r\nX-Injected: 1.txt', "quote%22d%0D%0AX-Injected: 1.txt"),  # as browsers send
    ("invoice\u202efdp.txt", "invoicefdp.txt"),
    ("...hidden.txt", "hidden.txt"),
])
def test_file_names_lose_paths_and_control_characters(running_sqlite: Running, sent: str,
                                                      stored: str) -> None:
    ib = logged_in(running_sqlite, "ib")
    # By hand: clients percent-encode some characters, an attacker need not.
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            + ib.csrf.encode() + b"\r\n--XyZ\r\nContent-Disposition: form-data; "
            b"name=\"category_behaviour\"\r\n\r\non\r\n--XyZ\r\nContent-Disposition: "
            b"form-data; name=\"file\"; filename=\""
            + sent.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A").encode()
            + b"\"\r\n\r\ngewone tekst\r\n--XyZ--\r\n")
    response = ib.post(f"/cases/{CASE_ID}/documents", content=body,
                       headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
    assert response.status_code == 200, response.text
    document_id = response.text.split(f"{CASE_PATH}/documents/")[1].split('"')[0]
    _, headers, _, _ = stream_download(ib, f"{CASE_PATH}/documents/{document_id}/download")
    disposition = headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    from urllib.parse import quote
    assert disposition.endswith("filename*=UTF-8''" + quote(stored, safe=""))
    assert "x-injected" not in headers


def test_oversized_declared_body_is_refused_before_reading(start_portal, sqlite_url) -> None:
    running = start_portal(sqlite_url, max_upload_mb=1)
    ib = logged_in(running, "ib")
    before = counts(running)
    response = upload(ib, b"x" * (2 * 1024 * 1024), "groot.txt")
    assert response.status_code == 413
    assert "te groot" in response.text
    assert counts(running) == before
    # Refused on the declared length: the handler never ran, so no attempt to record.
    assert failed_reasons(running) == []


def _raw_upload(running: Running, client: PortalClient, parts: Iterator[bytes], *,
                chunked: bool, length: int = 0, close_early: bool = False) -> bytes:
    """POST a multipart body by hand (chunked, or cut off), returning what came back."""
    host, port = running.base_url.removeprefix("http://").split(":")
    cookie = "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}"
    head = (f"POST /cases/{CASE_ID}/documents HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Origin: {running.base_url}\r\nCookie: {cookie}\r\n{framing}\r\n"
            "Content-Type: multipart/form-data; boundary=XyZ\r\n\r\n").encode()
    sock = socket.create_connection((host, int(port)), timeout=10)
    try:
        sock.sendall(head)
        for part in parts:
            sock.sendall(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
        if close_early:
            return b""
        if chunked:
            sock.sendall(b"0\r\n\r\n")
        answer = b""
        while b"</html>" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        return answer
    finally:
        sock.close()


def _multipart(client: PortalClient, file_chunks: Iterator[bytes]) -> Iterator[bytes]:
    yield (f"--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
           f"{client.csrf}\r\n--XyZ\r\nContent-Disposition: form-data; "
           "name=\"category_behaviour\"\r\n\r\non\r\n--XyZ\r\nContent-Disposition: form-data; "
           "name=\"file\"; filename=\"groot.txt\"\r\nContent-Type: text/plain\r\n\r\n").encode()
    yield from file_chunks
    yield b"\r\n--XyZ--\r\n"


def test_oversized_streamed_body_is_cut_off(start_portal, sqlite_url) -> None:
    running = start_portal(sqlite_url, max_upload_mb=1)
    ib = logged_in(running, "ib")
    before = counts(running)
    answer = _raw_upload(running, ib, _multipart(ib, (b"x" * 65536 for _ in range(40))),
                         chunked=True)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"groter dan de uploadlimiet" in answer
    assert counts(running) == before
    assert failed_reasons(running) == ["too_large"]


def test_cancelled_upload_leaves_nothing(running_sqlite: Running) -> None:
    ib = logged_in(running_sqlite, "ib")
    before = counts(running_sqlite)
    # Half the file, then the connection goes: the closing boundary never comes.
    parts = list(_multipart(ib, iter([b"x" * 300_000])))[:-1]
    _raw_upload(running_sqlite, ib, iter(parts), chunked=False, length=5_000_000,
                close_early=True)
    deadline = time.monotonic() + 10
    while failed_reasons(running_sqlite) != ["cancelled"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert failed_reasons(running_sqlite) == ["cancelled"]
    assert counts(running_sqlite) == before


def test_upload_needs_the_csrf_token_before_the_file(running_sqlite: Running) -> None:
    ib = logged_in(running_sqlite, "ib")
    before = counts(running_sqlite)
    token = ib.csrf
    ib.csrf = "not-the-token"
    assert upload(ib, b"tekst", "a.txt").status_code == 403
    # The token after the file is never read: the file is not accepted without it.
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"category_behaviour\"\r\n\r\non"
            b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\""
            b"\r\n\r\ntekst\r\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\""
            b"\r\n\r\n" + token.encode() + b"\r\n--XyZ--\r\n")
    response = ib.post(f"/cases/{CASE_ID}/documents", content=body,
                       headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
    assert response.status_code == 403
    # The header works as well as the field (htmx sends it).
    ib.csrf = token
    other_site = ib.post(f"/cases/{CASE_ID}/documents", content=body,
                         headers={"Content-Type": "multipart/form-data; boundary=XyZ",
                                  "X-CSRF-Token": token, "Origin": "https://evil.example"})
    assert other_site.status_code == 403
    body = body.split(b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"")[0] \
        + b"\r\n--XyZ--\r\n"
    with_header = ib.post(f"/cases/{CASE_ID}/documents", content=body,
                          headers={"Content-Type": "multipart/form-data; boundary=XyZ",
                                   "X-CSRF-Token": token})
    assert with_header.status_code == 200
    assert counts(running_sqlite)["case_document"] == before["case_document"] + 1


def test_malformed_multipart_is_refused(running_sqlite: Running) -> None:
    ib = logged_in(running_sqlite, "ib")
    before = counts(running_sqlite)
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            + ib.csrf.encode() + b"\r\n--XyZ\r\nContent-Disposition: form-data; "
            b"name=\"category_behaviour\"\r\n\r\non\r\n--XyZ\r\nContent-Disposition: form-data;"
            b" name=\"file\"; filename=\"a.txt\"\r\n\r\nno closing boundary")
    response = ib.post(f"/cases/{CASE_ID}/documents", content=body,
                       headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
    assert response.status_code == 400
    assert counts(running_sqlite) == before
    assert failed_reasons(running_sqlite) == ["malformed"]


def test_categories_are_required(running_sqlite: Running) -> None:
    ib = logged_in(running_sqlite, "ib")
    before = counts(running_sqlite)
    response = upload(ib, b"tekst", "a.txt", categories=())
    assert response.status_code == 400 and "gegevenscategorie" in response.text
    assert counts(running_sqlite) == before
