"""Minutes and attachments through the real routes: upload, list, read, revise, download.

Free-text minutes are no longer written in the portal; the older ones (made here
through their service) are still listed, read and revised."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.documents.models import DocumentVersion
from portal.errors import AccessDenied
from tests.documents.helpers import (
    CASE_ID,
    CASE_PATH,
    PDF,
    legacy_minutes,
    logged_in,
    stream_download,
    upload,
    upload_new,
)
from tests.harness import Running


def test_minutes_are_written_listed_read_and_revised(running: Running) -> None:
    notulist = logged_in(running, "notulist")
    document_id = legacy_minutes(running, "notulist", "MDO 3 december",
                                 "# Afspraken\n- mentor belt ouders\n- **IB** plant vervolg\n\n"
                                 "Sam <script>alert(1)</script> doet *zijn best*.",
                                 categories=("behaviour", "school_progress"))
    page = notulist.page(f"{CASE_PATH}/documents/{document_id}").text
    assert "<h3>Afspraken</h3>" in page and "<li>mentor belt ouders</li>" in page
    assert "<strong>IB</strong>" in page and "<em>zijn best</em>" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    mentor = logged_in(running, "mentor")
    case_page = mentor.page(f"{CASE_PATH}/documents").text
    assert "MDO 3 december" in case_page and "Gedrag" in case_page

    revised = mentor.submit(f"{CASE_PATH}/documents/{document_id}/versions",
                            {"title": "MDO 3 december (aangevuld)", "text": "Nieuwe tekst."})
    assert revised.status_code == 200 and "Nieuwe tekst." in revised.text
    first = mentor.page(f"{CASE_PATH}/documents/{document_id}?version=1")
    assert "mentor belt ouders" in first.text and "Nieuwe tekst." not in first.text
    with running.portal.sessions() as db:
        versions = db.scalars(select(DocumentVersion)
                              .where(DocumentVersion.document_id == document_id)).all()
        events = db.scalars(select(AccessRecord.event_type)
                            .where(AccessRecord.object_id == document_id)).all()
    assert len({v.data_key_id for v in versions}) == 2, "one data key per version"
    assert {"document.view", "document.update", "document.list"} <= set(events)


def test_attachment_upload_and_download(running: Running) -> None:
    ib = logged_in(running, "ib")
    content = ("Verslag\n" + "regel met tekst\n" * 20_000).encode()  # several segments
    response = upload(ib, content, "../../verslag \u202eexe.txt", categories=("school_progress",))
    assert response.status_code == 200, response.text
    assert response.url.path == f"{CASE_PATH}/documents"
    assert "verslag exe.txt" in response.text
    document_id = response.text.split(f"{CASE_PATH}/documents/")[1].split('"')[0]

    status, headers, body, clean = stream_download(
        ib, f"{CASE_PATH}/documents/{document_id}/download")
    assert (status, clean, body) == (200, True, content)
    assert headers["content-disposition"] == \
        "attachment; filename=\"verslag exe.txt\"; filename*=UTF-8''verslag%20exe.txt"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == "sandbox"
    assert headers["cache-control"] == "no-store"
    assert headers["content-type"] == "text/plain; charset=utf-8"
    with running.portal.sessions() as db:
        outcome = db.scalars(select(AccessRecord.outcome).where(
            AccessRecord.event_type == "document.download",
            AccessRecord.object_id == document_id)).all()
    assert outcome == ["allowed"]


def test_unicode_file_names_survive(running_sqlite: Running) -> None:
    ib = logged_in(running_sqlite, "ib")
    response = upload(ib, PDF, "Plan van aanpak – Zoë.pdf")
    assert response.status_code == 200
    document_id = response.text.split(f"{CASE_PATH}/documents/")[1].split('"')[0]
    _, headers, body, _ = stream_download(ib, f"{CASE_PATH}/documents/{document_id}/download")
    assert body == PDF
    assert headers["content-disposition"].endswith(
        "filename*=UTF-8''Plan%20van%20aanpak%20%E2%80%93%20Zo%C3%AB.pdf")
    assert headers["content-type"] == "application/pdf"


def test_uploaded_minutes_are_minutes(running_sqlite: Running) -> None:
    notulist = logged_in(running_sqlite, "notulist")
    response = upload(notulist, b"Notulen van het MDO\n", "notulen.txt", kind="minutes")
    assert response.status_code == 200
    assert "Verslag" in response.text and "notulen.txt" in response.text


def test_who_may_do_what(running_sqlite: Running) -> None:
    notulist = logged_in(running_sqlite, "notulist")
    document_id = legacy_minutes(running_sqlite, "notulist", "Titel", "Tekst")
    mentor = logged_in(running_sqlite, "mentor")
    # Participants and minute-takers upload; only the chair erases. Free-text
    # minutes are no longer written here (one minutes feature: per meeting).
    documents_tab = mentor.page(f"{CASE_PATH}/documents").text
    assert 'id="upload-form"' in documents_tab
    assert f"{CASE_PATH}/erasure" not in documents_tab
    assert f"{CASE_PATH}/minutes/new" not in documents_tab
    assert mentor.get(f"{CASE_PATH}/minutes/new").status_code == 404
    assert mentor.submit(f"{CASE_PATH}/documents/{document_id}/erase",
                         {"confirm": "on"}).status_code == 403
    outsider = logged_in(running_sqlite, "buitenstaander")
    assert outsider.get(f"{CASE_PATH}/documents/{document_id}").status_code == 404
    assert outsider.get(f"{CASE_PATH}/documents/{document_id}/download").status_code == 404
    # Parents read only what the chair shares with them (the consent work).
    parent = logged_in(running_sqlite, "ouder1")
    assert parent.get(f"{CASE_PATH}/documents/{document_id}").status_code in (403, 404)
    # A document of this case is not reachable through another case's URL.
    other_case = f"/cases/{'0' * 8}-0000-4000-8000-{'0' * 12}"
    assert notulist.get(f"{other_case}/documents/{document_id}").status_code == 404
    assert CASE_ID in notulist.page(CASE_PATH).text


def test_writing_refused_on_a_closed_case(running_sqlite: Running) -> None:
    ib = logged_in(running_sqlite, "ib")
    ib.submit(f"{CASE_PATH}/close", {"confirm": "1"})
    with pytest.raises(AccessDenied):
        legacy_minutes(running_sqlite, "ib", "Te laat", "Tekst")
    assert upload(ib, b"tekst", "a.txt").status_code == 403


def test_access_record_is_committed_before_the_first_byte(running: Running) -> None:
    ib = logged_in(running, "ib")
    document_id = upload_new(running, ib, b"inhoud\n" * 100_000, "groot.txt")
    with ib.stream("GET", f"{CASE_PATH}/documents/{document_id}/download") as response:
        assert response.status_code == 200
        # Headers are here, the body not yet read: the record must already be visible.
        with running.portal.sessions() as db:
            outcomes = db.scalars(select(AccessRecord.outcome).where(
                AccessRecord.event_type == "document.download",
                AccessRecord.object_id == document_id)).all()
        assert outcomes == ["allowed"]
        assert sum(len(chunk) for chunk in response.iter_raw()) == 700_000


def test_items_outside_the_consent_are_not_read(running_sqlite: Running) -> None:
    # The demo consents cover school progress, behaviour and social-emotional
    # development for Het Baken: a health item is refused even to its writer.
    ib = logged_in(running_sqlite, "ib")
    document_id = upload_new(running_sqlite, ib, b"medisch verslag", "medisch.txt",
                             categories=("health",))
    assert "medisch.txt" not in ib.page(CASE_PATH).text
    assert ib.get(f"{CASE_PATH}/documents/{document_id}/download").status_code == 403
    with running_sqlite.portal.sessions() as db:
        reasons = db.scalars(select(AccessRecord.reason).where(
            AccessRecord.object_id == document_id, AccessRecord.outcome == "denied")).all()
    assert reasons and all(r and r.startswith("consent") for r in reasons)
