"""The request id in the access record: the same as in the request's log lines and header,
sealed only when set, so records written without one hash exactly as before."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError

from portal.audit import keys
from portal.audit.chain import GENESIS, canonical_encoding, chain_hash
from portal.audit.encoding import (
    ROW_COLUMNS,
    SEALED_COLUMNS,
    column_changes,
    row_changes,
    row_matches,
    sealed_fields,
)
from portal.audit.models import AccessRecord
from portal.audit.replay import database_checkpoints, verify_database
from portal.audit.service import Requester, record
from portal.db import make_engine, session_factory, unit_of_work
from portal.demo import DEMO_CASE, stable_id
from portal.migrate import alembic_config, upgrade
from portal.ops.logs import configure
from portal.ops.logs import request_id as current_request_id
from tests.harness import Running

CASE_ID = stable_id("case", DEMO_CASE.key)
WHO = Requester(user_id=None, user_name="portal", user_role=None, organisation_id=None,
                session_ref=None, client_address=None)
# A record as the portal sealed it before the request id existed (computed on that code):
# its encoding and hash must never change.
OLD_VALUES: dict[str, object] = dict.fromkeys(SEALED_COLUMNS)
OLD_VALUES.update(
    id="77777777-7777-4777-8777-777777777777", seq=42,
    occurred_at=datetime(2026, 3, 2, 8, 0, 0, 123000, tzinfo=UTC), action_code="R",
    event_type="case.view", outcome="allowed", purpose_of_use="care_coordination",
    basis="participant:chair;basis:consent", authorised=True, relation_to_case=True,
    consent_present=True, emergency_procedure=False,
    user_id="11111111-1111-4111-8111-111111111111", user_name="Ilse Bakker",
    user_role="care_coordinator", session_ref="abcd", client_address="127.0.0.1",
    case_id="22222222-2222-4222-8222-222222222222", data_categories="behaviour,health",
    sensitivity="R", source="mdo-portal")
OLD_HASH = "a0a01971080dd134b6f0b13e05a5d29a55d76ae9af5eb0a02b016da78ebcdb4c"
NOW = datetime(2026, 3, 2, 8, 0, 0, tzinfo=UTC)


def verify(running: Running) -> Any:
    settings = running.portal.settings
    trusted = keys.trusted_keys(settings.effective_audit_origin,
                                keys.load_signing_key(settings.audit_signing_key), ())
    engine = running.portal.engine
    return verify_database(engine, trusted, database_checkpoints(engine))


def records_of(running: Running, request_id: str) -> list[AccessRecord]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord).where(AccessRecord.request_id == request_id)
                               .order_by(AccessRecord.seq)))


def test_a_pages_request_id_is_in_its_log_line_and_its_access_records(
        running_sqlite: Running) -> None:
    stream = io.StringIO()
    configure("INFO", stream)
    client = running_sqlite.client()
    client.login("ib")
    page = client.get(f"/cases/{CASE_ID}")
    assert page.status_code == 200
    rid = page.headers["x-request-id"]
    assert len(rid) == 32

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    served = [r for r in lines if r["logger"] == "uvicorn.access"
              and f'"GET /cases/{CASE_ID} HTTP/1.1" 200' in r["message"]]
    assert [r["request_id"] for r in served] == [rid]

    mine = records_of(running_sqlite, rid)
    assert mine, "the case page wrote access records with its request id"
    assert {r.case_id for r in mine} == {CASE_ID}
    assert all(r.user_id == stable_id("person", "ib") for r in mine)
    for entry in mine:
        assert json.loads(entry.encoding)["request_id"] == rid  # sealed, not only a column
    # Another request's records carry that request's id, not this one's.
    other = client.get("/cases")
    assert other.headers["x-request-id"] != rid
    assert records_of(running_sqlite, other.headers["x-request-id"])

    # A record written outside any request (a job, the CLI) has none, and seals none.
    with unit_of_work(running_sqlite.portal.sessions) as db:
        job = record(db, WHO, running_sqlite.clock(), event_type="audit.job", action="execute")
    # Chained when the transaction committed: its encoding was made then.
    assert b"request_id" not in job.encoding

    report = verify(running_sqlite)
    assert report.ok, report.describe()
    assert report.records_checked == report.records


def test_a_record_without_request_id_hashes_exactly_as_before() -> None:
    encoding = canonical_encoding(sealed_fields(OLD_VALUES))
    assert b"request_id" not in encoding
    assert chain_hash(GENESIS, encoding).hex() == OLD_HASH
    # The same with the column present and empty, as a stored row now has it.
    with_column = dict(OLD_VALUES, request_id=None)
    assert canonical_encoding(sealed_fields(with_column)) == encoding
    row = [with_column[name] for name in ROW_COLUMNS]
    assert row_matches(row, encoding)
    assert row_changes(row, encoding) == [] == list(column_changes(with_column, encoding))


def test_a_sealed_request_id_cannot_be_changed_or_removed_unseen() -> None:
    values = dict(OLD_VALUES, request_id="0123456789abcdef0123456789abcdef")
    encoding = canonical_encoding(sealed_fields(values))
    assert json.loads(encoding)["request_id"] == values["request_id"]
    assert chain_hash(GENESIS, encoding).hex() != OLD_HASH
    row = [values[name] for name in ROW_COLUMNS]
    assert row_matches(row, encoding) and row_changes(row, encoding) == []

    for forged in (None, "ffffffffffffffffffffffffffffffff"):
        changed = dict(values, request_id=forged)
        forged_row = [changed[name] for name in ROW_COLUMNS]
        assert not row_matches(forged_row, encoding)
        assert row_changes(forged_row, encoding) == ["request_id"]
        assert list(column_changes(changed, encoding)) == ["request_id"]
    # An id put into the column of an old record is caught too.
    old_encoding = canonical_encoding(sealed_fields(OLD_VALUES))
    added = [values[name] for name in ROW_COLUMNS]
    assert not row_matches(added, old_encoding)
    assert row_changes(added, old_encoding) == ["request_id"]


def test_the_migration_keeps_the_triggers_and_refuses_to_drop_sealed_ids(
        empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        upgrade(engine)
        with unit_of_work(session_factory(engine)) as db:  # outside a request: no id
            record(db, WHO, NOW, event_type="audit.job", action="execute")
        command.downgrade(alembic_config(engine), "0025")
        with engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("access_record")}
            assert "ground_role_change" not in inspect(conn).get_table_names()
        assert "request_id" not in columns
        upgrade(engine)
        with pytest.raises(DBAPIError), engine.begin() as conn:  # still append-only
            conn.execute(text("UPDATE access_record SET user_name = 'x'"))
        token = current_request_id.set("0123456789abcdef0123456789abcdef")
        try:
            with unit_of_work(session_factory(engine)) as db:
                record(db, WHO, NOW, event_type="case.view", action="read")
        finally:
            current_request_id.reset(token)
        with pytest.raises(RuntimeError, match="from seq 2 on carry a sealed request id"):
            command.downgrade(alembic_config(engine), "0025")
        report = verify_database(engine, [], [])
        assert report.ok and report.records_checked == 2, report.describe()
    finally:
        engine.dispose()
