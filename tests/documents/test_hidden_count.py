"""The documents section counts what the viewer may not read, and shows nothing else of it."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.audit.models import AccessRecord
from tests.documents.helpers import CASE_PATH, logged_in, upload_new
from tests.harness import Running


def _section(page: str) -> str:
    """The documents list and its notice, not the upload form (which names every category)."""
    return page[page.index('id="documents"'):page.index('id="upload-form"')]


def test_items_outside_the_consent_scope_are_counted_not_shown(running_sqlite: Running) -> None:
    # The demo consents cover school progress, behaviour and social-emotional
    # development for Het Baken; health and family situation are outside them.
    ib = logged_in(running_sqlite, "ib")
    upload_new(running_sqlite, ib, b"leesbaar\n", "leesbaar.txt", categories=("behaviour",))
    assert "Stukken buiten uw toestemming" not in _section(ib.page(f"{CASE_PATH}/documents").text)
    upload_new(running_sqlite, ib, b"medisch\n", "medisch-verslag.txt", categories=("health",))
    upload_new(running_sqlite, ib, b"thuis\n", "thuissituatie.txt",
               categories=("family_situation",))
    section = _section(ib.page(f"{CASE_PATH}/documents").text)
    assert "Stukken buiten uw toestemming: 2" in section
    assert "leesbaar.txt" in section
    for secret in ("medisch-verslag", "thuissituatie", "Gezondheid", "Gezinssituatie"):
        assert secret not in section, secret
    with running_sqlite.portal.sessions() as db:
        denied = db.scalar(select(func.count(AccessRecord.object_id.distinct())).where(
            AccessRecord.event_type == "document.list", AccessRecord.outcome == "denied"))
    assert denied == 2, "the count comes from recorded decisions"
