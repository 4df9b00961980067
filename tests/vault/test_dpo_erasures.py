"""The DPO's page: what has been erased but is still recoverable from backups, until when."""

from __future__ import annotations

from sqlalchemy import select

from portal.audit.models import AccessRecord
from tests.documents.helpers import CASE_PATH, logged_in, upload_new
from tests.harness import Running


def test_dpo_sees_the_backlog_until_the_epoch(running: Running) -> None:
    dpo = running.client()
    dpo.login("fg")
    assert 'href="/dpo/erasures"' in dpo.page("/").text  # in the DPO's menu
    empty = dpo.page("/dpo/erasures")
    assert "Geen enkele wissing is uit een back-up te herstellen" in empty.text

    ib = logged_in(running, "ib")
    document_id = upload_new(running, ib, b"wordt gewist\n" * 100, "weg.txt")
    ib.submit(f"{CASE_PATH}/documents/{document_id}/erase", {"confirm": "on"})
    page = dpo.page("/dpo/erasures").text
    assert "Te herstellen uit back-ups tot het nieuwe sleuteltijdvak, uiterlijk" in page
    assert "<td>1</td>" in page and "weg.txt" not in page

    running.clock.advance(days=31)
    dpo = running.client()  # the session expired meanwhile
    dpo.login("fg")
    assert 'role="alert"' in dpo.page("/dpo/erasures").text  # overdue

    with running.portal.sessions() as db:
        outcomes = list(db.scalars(select(AccessRecord.outcome)
                                   .where(AccessRecord.event_type == "keys.erasures.view")))
    assert outcomes == ["allowed"] * 3


def test_only_the_dpo(running: Running) -> None:
    for persona in ("ib", "beheerder", "ouder1"):
        client = running.client()
        client.login(persona)
        assert client.get("/dpo/erasures").status_code == 403
        assert 'href="/dpo/erasures"' not in client.page("/cases").text
    assert running.client().get("/dpo/erasures", follow_redirects=False).status_code in \
        (302, 303, 307)
    assert running.client().post("/dpo/erasures").status_code in (403, 405)
