"""The verifier's raw fast path rebuilds exactly the sealed encoding the ORM path does.

``portal audit verify`` (full mode) reads plain driver tuples and rebuilds each
record's sealed encoding with ``RawRowEncoder`` instead of building ORM rows.
These tests write one record of every kind the portal writes (every nullable
column empty in one and set in another, unicode and control characters, with
and without a request id, a whole second) on both engines, and check that the
raw rebuild, the ORM's encoding and the stored bytes are the same; then that a
changed column is still found, and that raw values the fast path does not
recognise are decided the exact way, as the ORM path decides them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select, text

from portal.audit import ledger
from portal.audit.chain import canonical_encoding
from portal.audit.encoding import (
    OPTIONAL_COLUMNS,
    ROW_COLUMNS,
    RawRowEncoder,
    sealed_fields,
    sealed_sql,
)
from portal.audit.models import AccessRecord
from portal.audit.replay import (
    CHAIN_COLUMNS,
    COLUMNS_SQL,
    Report,
    database_checkpoints,
    raw_cursor,
    tail_checks,
    verify_database,
)
from portal.audit.service import Requester, record
from portal.db import make_engine, session_factory, unit_of_work
from portal.ops.logs import request_id
from portal.policy import Allow, Deny

ORIGIN = "test.example/access-log"
KEY = Ed25519PrivateKey.generate()
START = datetime(2026, 3, 2, 8, 0, 0, 123000, tzinfo=UTC)
PLAIN = Requester(user_id=None, user_name=None, user_role=None, organisation_id=None,
                  session_ref=None, client_address=None)
FULL = Requester(user_id="11111111-1111-4111-8111-111111111111",
                 user_name='Zoë "Ñúñez" \\ 😀\u2028\x1b[31m\n\tvan Dijk',
                 user_role="mentor; ‘intern’",
                 organisation_id="22222222-2222-4222-8222-222222222222",
                 session_ref="abcdabcdabcdabcd", client_address="2001:db8::1",
                 on_behalf_of_id="33333333-3333-4333-8333-333333333333")
ASCII = Requester(user_id="11111111-1111-4111-8111-111111111111",
                  user_name='Jan "de" \\ Vries\n', user_role="mentor",
                  organisation_id="22222222-2222-4222-8222-222222222222",
                  session_ref="abcdabcdabcdabcd", client_address="2001:db8::1",
                  on_behalf_of_id="33333333-3333-4333-8333-333333333333")
CASE = "44444444-4444-4444-8444-444444444444"
CHILD = "55555555-5555-4555-8555-555555555555"
OBJECT = "66666666-6666-4666-8666-666666666666"


def _write(engine: Engine) -> None:
    made = session_factory(engine)
    ledger.configure(made, ledger.AuditConfig(origin=ORIGIN, key_name=ORIGIN, signing_key=KEY,
                                              every=3, interval=timedelta(days=1)))
    with unit_of_work(made) as db:
        # Everything optional empty; a whole second (no fraction on PostgreSQL's side).
        record(db, PLAIN, START.replace(microsecond=0), event_type="system.start",
               action="execute", outcome="allowed")
        # A refusal with a reason, about a child without a case.
        record(db, FULL, START + timedelta(milliseconds=1), event_type="child.view",
               action="read", decision=Deny(reason="not_a_participant", hide=True),
               child_id=CHILD)
        # Every nullable column set, text with quotes, backslashes, non-ASCII and escapes.
        token = request_id.set("req-ß-0001")
        try:
            record(db, FULL, START + timedelta(days=40, milliseconds=999),
                   event_type="document.view", action="read",
                   decision=Allow(basis="participant:chair;basis:consent"),
                   case_id=CASE, child_id=CHILD, object_type="document", object_id=OBJECT,
                   reason="override", purpose_of_use="care_coordination",
                   legal_ground="wjz_7.1.1", consent_id=OBJECT, break_glass_id=CASE,
                   break_glass_reason="Acuut: «gevaar»\r\nzie verslag",
                   data_categories=("health", "education", "family"),
                   document_id=OBJECT, document_version=7, sensitivity="V",
                   query='child=Zoë&case="x"\\y')
        finally:
            request_id.reset(token)
        # A search with one data category, on a day in summer time.
        record(db, FULL, datetime(2026, 7, 1, 22, 30, 5, 7000, tzinfo=UTC),
               event_type="case.search", action="read", outcome="allowed",
               data_categories=("identity",), query="name=de Vries")
        # Every column set, in ASCII only (quotes, backslashes, control characters):
        # the rows the database's own rebuild confirms.
        token = request_id.set("req-0002")
        try:
            record(db, ASCII, START + timedelta(days=41), event_type="document.view",
                   action="read", decision=Allow(basis="participant:chair;basis:consent"),
                   case_id=CASE, child_id=CHILD, object_type="document", object_id=OBJECT,
                   reason="override", purpose_of_use="care_coordination",
                   legal_ground="wjz_7.1.1", consent_id=OBJECT, break_glass_id=CASE,
                   break_glass_reason='Acuut "gevaar"\r\nzie\tverslag \\ \x01\x1f',
                   data_categories=("health", "education"), document_id=OBJECT,
                   document_version=3, sensitivity="V", query='case="x"\\y/z')
        finally:
            request_id.reset(token)


@pytest.fixture
def log(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    _write(engine)
    yield engine
    engine.dispose()


def _raw_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        cursor = raw_cursor(conn, COLUMNS_SQL, "test_raw_rebuild")
        try:
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()


def _orm_encodings(engine: Engine) -> dict[int, bytes]:
    with session_factory(engine)() as db:
        return {entry.seq: canonical_encoding(sealed_fields(
                    {name: getattr(entry, name) for name in ROW_COLUMNS}))
                for entry in db.scalars(select(AccessRecord).order_by(AccessRecord.seq))}


def _verify(engine: Engine) -> Report:
    return verify_database(engine, [(ORIGIN, KEY.public_key())], database_checkpoints(engine))


def as_dba(engine: Engine, statement: str, params: dict[str, object]) -> None:
    """Change a record behind the portal's back (the append-only triggers out of the way)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE access_record DISABLE TRIGGER USER"))
        else:
            for trigger in ("access_record_no_update", "access_record_no_delete"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        conn.execute(text(statement), params)


def test_raw_rebuild_equals_the_orm_encoding_for_every_kind_of_record(log: Engine) -> None:
    rows = _raw_rows(log)
    orm = _orm_encodings(log)
    encode = RawRowEncoder(start=len(CHAIN_COLUMNS)).encode
    assert len(rows) == len(orm) == 5
    for row in rows:
        seq, stored = row[0], bytes(row[1])
        assert encode(row) == orm[seq] == stored, seq
    # The records cover every column both empty and set (so each path is exercised).
    columns = list(CHAIN_COLUMNS + ROW_COLUMNS)
    for name in ROW_COLUMNS:
        values = [row[columns.index(name)] for row in rows]
        assert any(v is not None for v in values), name
        if name not in ("id", "seq", "occurred_at", "action_code", "event_type", "outcome",
                        "source", "authorised", "relation_to_case", "consent_present",
                        "emergency_procedure", "purpose_of_use"):
            assert any(v is None for v in values), name
    assert b"\\u00eb" in orm[3] and b"\\ud83d\\ude00" in orm[3]  # unicode, escaped
    assert all(name.encode() in orm[3] for name in OPTIONAL_COLUMNS)
    assert _verify(log).ok


@pytest.mark.parametrize(("column", "value"), [
    ("user_name", 'Zoe "Ñúñez" \\ 😀\u2028\x1b[31m\n\tvan Dijk'),  # one letter off
    ("break_glass_reason", None),
    ("data_categories", "education,family"),
    ("document_version", 8),
    ("request_id", None),  # a sealed value removed
    ("emergency_procedure", True),
    ("query", 'child=Zoë&case="x"\\y '),
])
def test_a_changed_column_is_still_found(log: Engine, column: str, value: object) -> None:
    as_dba(log, f"UPDATE access_record SET {column} = :v WHERE seq = 3",  # noqa: S608
           {"v": value})
    row = next(r for r in _raw_rows(log) if r[0] == 3)
    assert RawRowEncoder(start=len(CHAIN_COLUMNS)).encode(row) != bytes(row[1])
    report = _verify(log)
    assert not report.ok
    assert report.problem is not None and report.problem.seq == 3
    assert list(report.changed_columns) == [column]


def test_a_changed_timestamp_is_found(log: Engine) -> None:
    later = START + timedelta(days=40, milliseconds=998)
    as_dba(log, "UPDATE access_record SET occurred_at = :v WHERE seq = 3",
           {"v": later if log.dialect.name == "postgresql"
            else later.replace(tzinfo=None).isoformat(" ", "microseconds")})
    report = _verify(log)
    assert not report.ok and list(report.changed_columns) == ["occurred_at"]


def test_values_the_fast_path_does_not_know_are_decided_the_exact_way(log: Engine) -> None:
    """Sub-millisecond digits the portal never writes: the raw encoder declines the row,
    and the exact path (which truncates to whole milliseconds, as sealing does) decides
    that the column still says what was sealed; the same for a flag stored as 2 on
    SQLite, which the ORM reads as true."""
    if log.dialect.name == "postgresql":
        as_dba(log, "UPDATE access_record SET occurred_at = occurred_at + interval '1 microsecond'"
               " WHERE seq = 3", {})
    else:
        as_dba(log, "UPDATE access_record SET occurred_at = replace(occurred_at, '999000', "
               "'999001'), authorised = 2 WHERE seq = 3", {})
    row = next(r for r in _raw_rows(log) if r[0] == 3)
    assert RawRowEncoder(start=len(CHAIN_COLUMNS)).encode(row) is None
    assert _orm_encodings(log)[3] == bytes(row[1])
    assert _verify(log).ok


def _database_rebuilds(engine: Engine) -> dict[int, bytes | None]:
    """The database's own rebuild of each encoding (the verifier's first filter)."""
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT seq, {sealed_sql(engine.dialect.name)} "  # noqa: S608
                                 "FROM access_record ORDER BY seq")).all()
    return {seq: None if rebuilt is None else rebuilt.encode() for seq, rebuilt in rows}


def test_the_databases_rebuild_confirms_ascii_rows_and_only_exact_ones(log: Engine) -> None:
    """Rows 1 and 5 (ASCII only, every column empty / set) are rebuilt by the database
    byte for byte; rows with non-ASCII text come out different (its JSON quoting does
    not escape them), so they go to RawRowEncoder: never a false match."""
    orm = _orm_encodings(log)
    rebuilt = _database_rebuilds(log)
    assert rebuilt[1] == orm[1] and rebuilt[5] == orm[5]
    assert all(rebuilt[seq] != orm[seq] for seq in (2, 3, 4))


@pytest.mark.parametrize(("column", "value"), [
    ("user_name", 'Jan "de" \\ Vries\r'),
    ("break_glass_reason", None),
    ("data_categories", "education,health,x"),
    ("document_version", 4),
    ("request_id", None),
    ("authorised", False),
    ("object_type", "case"),
])
def test_a_changed_ascii_column_is_found_through_the_databases_rebuild(
        log: Engine, column: str, value: object) -> None:
    as_dba(log, f"UPDATE access_record SET {column} = :v WHERE seq = 5",  # noqa: S608
           {"v": value})
    assert _database_rebuilds(log)[5] != bytes(next(r for r in _raw_rows(log) if r[0] == 5)[1])
    report = _verify(log)
    assert not report.ok and report.problem is not None and report.problem.seq == 5
    assert list(report.changed_columns) == [column]


def test_verifying_blocks_no_writer(log: Engine) -> None:
    """The replay reads without the portal's write lock (on SQLite a statement through
    SQLAlchemy begins ``BEGIN IMMEDIATE``, which held every writer off for the whole
    replay): a record written while it is under way commits at once, and the replay
    covers the records that were there when it began."""
    made = session_factory(log)
    ledger.configure(made, ledger.AuditConfig(origin=ORIGIN, key_name=ORIGIN, signing_key=KEY,
                                              every=3, interval=timedelta(days=1)))
    written: list[int] = []

    def write_meanwhile(done: int, _total: int) -> None:
        if not written:
            with unit_of_work(made) as db:
                record(db, ASCII, START + timedelta(days=50), event_type="case.view",
                       action="read", decision=Allow(basis="participant:chair;basis:consent"),
                       case_id=CASE)
            written.append(done)

    report = verify_database(log, [(ORIGIN, KEY.public_key())], database_checkpoints(log),
                             progress=write_meanwhile, progress_every=1)
    assert written == [1]
    assert report.ok and report.records_checked == 5
    # The head has moved on meanwhile: not a cut tail, as record 6 is there.
    report = tail_checks(log, report)
    assert report.ok, report.describe()
    assert report.caveat is not None and "record 6, appended while the check ran" in \
        report.caveat
    assert _verify(log).ok and _verify(log).records_checked == 6
