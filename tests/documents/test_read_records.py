"""What reads of a document put on record: the version read, and an erasure that raced them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.models import AccessRecord
from portal.demo import stable_id
from portal.documents.erasure import shred
from portal.documents.models import CaseDocument, DocumentVersion
from portal.vault.service import FieldKey
from tests.documents.helpers import (
    CASE_PATH,
    legacy_minutes,
    logged_in,
    stream_download,
    upload_new,
)
from tests.harness import Running


def _records(running: Running, document_id: str) -> list[tuple[str, str, int | None, str]]:
    with running.portal.sessions() as db:
        rows = db.execute(select(AccessRecord.event_type, AccessRecord.outcome,
                                 AccessRecord.document_version, AccessRecord.reason)
                          .where(AccessRecord.document_id == document_id)
                          .order_by(AccessRecord.seq)).all()
    return [(e, o, v, r or "") for e, o, v, r in rows]


def test_reads_name_the_version_they_read(running: Running) -> None:
    ib = logged_in(running, "ib")
    minutes_id = legacy_minutes(running, "ib", "Notulen", "Versie een")
    ib.submit(f"{CASE_PATH}/documents/{minutes_id}/versions",
              {"title": "Notulen", "text": "Versie twee"})
    file_id = upload_new(running, ib, b"bijlage\n", "bijlage.txt")
    assert "Versie een" in ib.get(f"{CASE_PATH}/documents/{minutes_id}?version=1").text
    assert "Versie twee" in ib.get(f"{CASE_PATH}/documents/{minutes_id}").text
    stream_download(ib, f"{CASE_PATH}/documents/{file_id}/download")
    views = [v for e, o, v, _ in _records(running, minutes_id)
             if e == "document.view" and o == "allowed"]
    assert views[-2:] == [1, 2]
    assert [v for e, _, v, _ in _records(running, file_id) if e == "document.download"] == [1]


@pytest.mark.parametrize("suffix", ["", "/download"])
def test_an_erasure_between_decision_and_unwrap_is_a_clean_404(
        running: Running, monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    ib = logged_in(running, "ib")
    file_id = upload_new(running, ib, b"vertrouwelijk\n", "bijlage.txt")
    vault = running.portal.vault
    unwrap = vault.key_by_id

    def erased_meanwhile(db: Session, key_id: str,
                         owner: tuple[str, str] | None = None) -> FieldKey:
        # The chair's erasure gets in right after the decision was recorded.
        document = db.scalar(select(CaseDocument).join(DocumentVersion)
                             .where(DocumentVersion.data_key_id == key_id))
        if document is None:  # the case's and the child's keys: not erased
            return unwrap(db, key_id, owner)
        shred(db, vault, document, stable_id("person", "ib"), running.clock())
        return unwrap(db, key_id, owner)

    monkeypatch.setattr(vault, "key_by_id", erased_meanwhile)
    response = ib.get(f"{CASE_PATH}/documents/{file_id}{suffix}")
    assert response.status_code == 404
    assert b"vertrouwelijk" not in response.content
    event = "document.download" if suffix else "document.view"
    outcomes: list[Any] = [(o, v, r) for e, o, v, r in _records(running, file_id) if e == event]
    assert outcomes == [("allowed", 1, ""), ("failed", 1, "erased")]
