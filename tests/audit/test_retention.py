"""Retention: access records outlive erased case content, and the chain still verifies.

Pruning is not built (docs/architecture.md, "Audit"): the log is append-only
down to the database triggers (tests/audit/test_append_only.py), so the
retention period is a floor the portal never cuts into.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from portal.audit import keys
from portal.audit.models import AccessRecord
from portal.audit.replay import database_checkpoints, verify_database
from portal.settings import SettingsError
from portal.settings_env import load_settings
from tests.documents.helpers import (
    CASE_PATH,
    legacy_minutes,
    logged_in,
    upload_new,
)
from tests.harness import Running


def about(running: Running, document_id: str) -> list[AccessRecord]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord).where(AccessRecord.object_id == document_id)
                               .order_by(AccessRecord.seq)))


def verify(running: Running) -> Any:
    settings = running.portal.settings
    trusted = keys.trusted_keys(settings.effective_audit_origin,
                                keys.load_signing_key(settings.audit_signing_key), ())
    return verify_database(running.portal.engine, trusted,
                           database_checkpoints(running.portal.engine))


def test_records_survive_erasure_and_the_erasure_is_logged(running: Running) -> None:
    ib = logged_in(running, "ib")
    minutes_id = legacy_minutes(running, "ib", "Notulen", "Tekst",
                                categories=("behaviour",))
    assert ib.page(f"{CASE_PATH}/documents/{minutes_id}").status_code == 200
    attachment = upload_new(running, ib, b"bijlage", "bijlage.txt")
    before = about(running, minutes_id)
    assert len(before) >= 2  # written and read

    assert ib.submit(f"{CASE_PATH}/documents/{minutes_id}/erase",
                     {"confirm": "on"}).status_code == 200
    assert ib.submit(f"{CASE_PATH}/erasure", {"confirm": "on"}).status_code == 200

    after = about(running, minutes_id)
    # Every record from before the erasure is still there, unchanged...
    assert [(r.seq, r.record_hash) for r in after[:len(before)]] == \
        [(r.seq, r.record_hash) for r in before]
    # ...and the erasure itself is one more record, allowed, action code D.
    erased = [r for r in after[len(before):] if r.event_type == "document.erase"]
    assert [(r.outcome, r.action_code) for r in erased] == [("allowed", "D")]
    assert [r.outcome for r in about(running, attachment)
            if r.event_type == "document.erase"] == ["allowed"]
    report = verify(running)
    assert report.ok, report.describe()


def test_retention_defaults_to_five_years_and_refuses_less() -> None:
    assert load_settings({}).audit_retention_years == 5
    assert load_settings({"PORTAL_AUDIT_RETENTION_YEARS": "7"}).audit_retention_years == 7
    with pytest.raises(SettingsError, match="below 5 years"):
        load_settings({"PORTAL_AUDIT_RETENTION_YEARS": "2"})
    with pytest.raises(SettingsError, match="positive"):
        load_settings({"PORTAL_AUDIT_RETENTION_YEARS": "0"})
    overridden = load_settings({"PORTAL_AUDIT_RETENTION_YEARS": "2",
                                "PORTAL_AUDIT_RETENTION_BELOW_MINIMUM": "1"})
    assert overridden.audit_retention_years == 2
