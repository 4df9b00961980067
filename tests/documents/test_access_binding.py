"""The columns that decide who may read a document are bound to its ciphertext.

Attacks by someone who can write to the database: widen a document's
categories so a reader's consent covers it, and set the version's binding
back to the older, location-only associated data. Each read must fail closed
(nothing decrypted, 500) with a ``failed`` access record, never show content.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from portal.audit.models import AccessRecord
from portal.documents.models import CaseDocument, DocumentVersion
from tests.documents.helpers import (
    CASE_PATH,
    legacy_minutes,
    logged_in,
    stream_download,
    upload_new,
)
from tests.harness import Running

SECRET = b"medisch verslag over Sam\n" * 50


def _outcomes(running: Running, document_id: str) -> list[tuple[str, str, str]]:
    with running.portal.sessions() as db:
        rows = db.execute(select(AccessRecord.event_type, AccessRecord.outcome,
                                 AccessRecord.reason)
                          .where(AccessRecord.object_id == document_id)
                          .order_by(AccessRecord.seq)).all()
    return [(e, o, r or "") for e, o, r in rows]


def _widen(running: Running, document_id: str, *, downgrade: bool = False) -> None:
    with running.portal.sessions() as db, db.begin():
        db.execute(update(CaseDocument).where(CaseDocument.id == document_id)
                   .values(categories="behaviour"))
        if downgrade:
            db.execute(update(DocumentVersion).where(DocumentVersion.document_id == document_id)
                       .values(binding=1))


@pytest.mark.parametrize("downgrade", [False, True], ids=["widened", "widened+downgraded"])
def test_widened_file_fails_closed_with_a_record(running: Running, downgrade: bool) -> None:
    # The demo consents do not name health: the IB may upload it but not read it.
    ib = logged_in(running, "ib")
    file_id = upload_new(running, ib, SECRET, "medisch-verslag.txt", categories=("health",))
    assert ib.get(f"{CASE_PATH}/documents/{file_id}/download").status_code == 403
    _widen(running, file_id, downgrade=downgrade)

    response = ib.get(f"{CASE_PATH}/documents/{file_id}/download")
    assert response.status_code == 500 and b"medisch" not in response.content
    page = ib.page(f"{CASE_PATH}/documents").text
    assert "medisch-verslag" not in page and "kon niet worden ontsleuteld" in page
    outcomes = _outcomes(running, file_id)
    assert ("document.download", "allowed", "") in outcomes  # the widened decision...
    assert ("document.download", "failed", "decryption_failed") in outcomes  # ...failed
    assert ("document.list", "failed", "decryption_failed") in outcomes


@pytest.mark.parametrize("downgrade", [False, True], ids=["widened", "widened+downgraded"])
def test_widened_minutes_fail_closed_with_a_record(running: Running, downgrade: bool) -> None:
    ib = logged_in(running, "ib")
    minutes_id = legacy_minutes(running, "ib", "Medische notulen", "Diagnose van Sam",
                                categories=("health",))
    _widen(running, minutes_id, downgrade=downgrade)
    response = ib.get(f"{CASE_PATH}/documents/{minutes_id}")
    assert response.status_code == 500
    assert "Diagnose" not in response.text and "Medische notulen" not in response.text
    assert ("document.view", "failed", "decryption_failed") in _outcomes(running, minutes_id)


def test_untouched_binding_reads_as_before(running: Running) -> None:
    ib = logged_in(running, "ib")
    file_id = upload_new(running, ib, SECRET, "gedrag.txt", categories=("behaviour",))
    status, _, body, clean = stream_download(ib, f"{CASE_PATH}/documents/{file_id}/download")
    assert (status, clean, body == SECRET) == (200, True, True)
    with running.portal.sessions() as db:
        assert db.scalar(select(DocumentVersion.binding)
                         .where(DocumentVersion.document_id == file_id)) == 2
