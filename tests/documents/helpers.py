"""Shared steps for the documents tests: upload through the real routes; older
free-text minutes (no longer written in the portal) made through their service."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from typing import Any

import httpx
from sqlalchemy import func, select

from portal.audit.service import Requester
from portal.db import unit_of_work
from portal.demo import DEMO_CASE, stable_id
from portal.documents import minutes
from portal.documents.models import CATEGORIES, CaseDocument, DocumentSegment, DocumentVersion
from portal.errors import AccessDenied
from portal.vault.models import DataKey
from tests.harness import PortalClient, Running

CASE_ID = stable_id("case", DEMO_CASE.key)
CASE_PATH = f"/cases/{CASE_ID}"


def upload(client: PortalClient, content: bytes, filename: str, *, kind: str = "attachment",
           categories: Iterable[str] = ("behaviour",), case_id: str = CASE_ID,
           content_type: str = "application/octet-stream") -> httpx.Response:
    """POST a file as the case page's form does: CSRF token and fields before the file."""
    if not client.csrf:
        client.page(f"/cases/{case_id}")
    data = {"csrf_token": client.csrf, "kind": kind,
            **{f"category_{c}": "on" for c in categories}}
    response = client.post(f"/cases/{case_id}/documents", data=data,
                           files={"file": (filename, content, content_type)})
    client.refresh_csrf(response.text)
    return response


def legacy_minutes(running: Running, persona: str, title: str, text: str, *,
                   categories: Iterable[str] = ("behaviour",), case_id: str = CASE_ID) -> str:
    """Free-text minutes as the portal wrote them before minutes became structured
    (the route is gone; such documents remain, are read, revised and erased):
    written by ``persona`` through the same service, decided and recorded as then.
    Returns the new document's id; raises what the service raises (a refusal)."""
    with running.portal.sessions() as db:
        actor = running.portal.load_actor(db, stable_id("person", persona))
    assert actor is not None
    who = Requester(user_id=actor.person_id, user_name=actor.name, user_role=None,
                    organisation_id=None, session_ref="test", client_address="127.0.0.1")
    with unit_of_work(running.portal.sessions) as db:
        try:
            return minutes.create_minutes(db, running.portal.vault, who, actor,
                                          running.clock(), case_id, title, text,
                                          # in the form's order, as the route chose them
                                          [c for c in CATEGORIES if c in set(categories)])
        except AccessDenied:
            db.commit()  # as the request boundary does: the refusal stays on record
            raise


def document_id_from(response: httpx.Response) -> str:
    """The id in the URL a successful write redirected to."""
    return response.url.path.rstrip("/").split("/")[4]


def document_ids(running: Running) -> set[str]:
    with running.portal.sessions() as db:
        return set(db.scalars(select(CaseDocument.id)))


def upload_new(running: Running, client: PortalClient, content: bytes, filename: str,
               **options: Any) -> str:
    """Upload and return the new document's id (the test clock stands still, so
    the order of the list cannot tell uploads apart)."""
    before = document_ids(running)
    response = upload(client, content, filename, **options)
    assert response.status_code == 200, response.text
    (new,) = document_ids(running) - before
    return new


def counts(running: Running) -> dict[str, int]:
    """How many rows each document table (and the key table) holds."""
    with running.portal.sessions() as db:
        return {model.__tablename__: db.scalar(select(func.count()).select_from(model)) or 0
                for model in (CaseDocument, DocumentVersion, DocumentSegment, DataKey)}


def docx(parts: dict[str, bytes] | None = None, *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A minimal Office Open XML word-processing document."""
    parts = parts if parts is not None else {
        "[Content_Types].xml": b"<?xml version='1.0'?><Types/>",
        "word/document.xml": b"<?xml version='1.0'?><w:document>Hallo</w:document>",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def odf(mimetype: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype)  # stored, first
        archive.writestr("content.xml", b"<office:document-content/>",
                         compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def logged_in(running: Running, persona: str) -> PortalClient:
    client = running.client()
    client.login(persona)
    client.page(CASE_PATH)
    return client


def stream_download(client: PortalClient, path: str) -> tuple[int, dict[str, Any], bytes, bool]:
    """Download as a browser would; reports whether the response ended cleanly."""
    body = bytearray()
    with client.stream("GET", path) as response:
        headers = dict(response.headers)
        try:
            for chunk in response.iter_raw():
                body += chunk
        except (httpx.RemoteProtocolError, httpx.ReadError):
            return response.status_code, headers, bytes(body), False
    return response.status_code, headers, bytes(body), True
