"""Free-text minutes of an anonymous case (older ones; revised here) go through the
identifier check first."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.consent.anonymous import IdentifiersFound
from portal.consent.models import IdentifierOverride
from portal.documents.models import CaseDocument
from tests.consent.test_anonymous import CASE_URL, create_anonymous
from tests.documents.helpers import CASE_PATH, legacy_minutes, logged_in
from tests.harness import Running


def _minutes(running: Running, case_id: str) -> list[str]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(CaseDocument.id).where(CaseDocument.case_id == case_id)))


def test_identifiers_in_minutes_of_an_anonymous_case(running_sqlite: Running) -> None:
    ib = logged_in(running_sqlite, "ib")
    created = create_anonymous(ib, "Leerling groep 7", "Gedrag in de klas")
    match = CASE_URL.search(str(created.url))  # type: ignore[attr-defined]
    assert match
    case_id = match.group(1)
    with pytest.raises(IdentifiersFound) as blocked:
        legacy_minutes(running_sqlite, "ib", "Overleg groep 7", "Sam was vandaag onrustig.",
                       case_id=case_id)
    assert "text" in blocked.value.findings
    assert _minutes(running_sqlite, case_id) == [], "nothing saved"

    document_id = legacy_minutes(running_sqlite, "ib", "Overleg groep 7",
                                 "De leerling was vandaag onrustig.", case_id=case_id)
    revised = ib.submit(f"/cases/{case_id}/documents/{document_id}/versions",
                        {"title": "Overleg met Sam", "text": "Rustiger."})
    assert revised.status_code == 400 and "naam van een geregistreerd kind" in revised.text

    confirmed = ib.submit(f"/cases/{case_id}/documents/{document_id}/versions",
                          {"title": "Overleg met Sam", "text": "Rustiger.",
                           "confirm_identifiers": "on"})
    assert confirmed.status_code == 200 and "Overleg met Sam" in confirmed.text
    with running_sqlite.portal.sessions() as db:
        overrides = db.scalars(select(IdentifierOverride)
                               .where(IdentifierOverride.case_id == case_id)).all()
    assert [(o.field, o.kinds) for o in overrides] == [
        (f"document:{document_id}:title", ["child_name"])]


def test_named_cases_are_not_checked(running_sqlite: Running) -> None:
    ib = logged_in(running_sqlite, "ib")
    written = legacy_minutes(running_sqlite, "ib", "Overleg over Sam", "Sam was onrustig.")
    assert "Sam was onrustig" in ib.page(f"{CASE_PATH}/documents/{written}").text
