"""The log tables refuse changes: triggers on both engines, and grants for the app's role."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from portal.audit import ledger
from portal.audit.service import Requester, record
from portal.db import make_engine, session_factory, unit_of_work
from portal.migrate import upgrade
from tests.harness import PostgresServer

WHO = Requester(user_id=None, user_name="Test", user_role=None, organisation_id=None,
                session_ref=None, client_address="127.0.0.1")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
LOG_TABLES = ("access_record", "audit_checkpoint")


def append(engine: Engine, count: int = 2) -> None:
    """Records, and (the first one seals at once) a checkpoint."""
    made = session_factory(engine)
    ledger.configure(made, ledger.AuditConfig(origin="t/log", key_name="t/log",
                                              signing_key=Ed25519PrivateKey.generate()))
    for _ in range(count):
        with unit_of_work(made) as db:
            record(db, WHO, NOW, event_type="case.view", action="read", outcome="allowed")


def refused(engine: Engine, sql: str) -> str:
    with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
        conn.execute(text(sql))
    return str(caught.value.orig)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    append(engine)
    yield engine
    engine.dispose()


def test_the_log_refuses_update_and_delete(engine: Engine) -> None:
    for update, delete in (("UPDATE access_record SET id = id", "DELETE FROM access_record"),
                           ("UPDATE audit_checkpoint SET id = id",
                            "DELETE FROM audit_checkpoint")):
        assert "append-only" in refused(engine, update)
        assert "append-only" in refused(engine, delete)
    assert "only moves forward" in refused(engine, "UPDATE audit_chain_head SET seq = 0")
    assert "only moves forward" in refused(engine, "DELETE FROM audit_chain_head")
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM access_record")) == 2


def test_postgresql_refuses_truncate_even_to_the_owner(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        append(engine)
        for table in (*LOG_TABLES, "audit_chain_head"):
            assert "TRUNCATE refused" in refused(engine, f"TRUNCATE {table}")
    finally:
        engine.dispose()


@pytest.fixture
def app_role(postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
             ) -> Iterator[tuple[str, str]]:
    """A database migrated by its owner with PORTAL_DB_APP_ROLE naming a login role."""
    suffix = uuid.uuid4().hex[:10]
    role, database = f"mdo_app_{suffix}", f"t_grants_{suffix}"
    postgres.execute(f"CREATE ROLE {role} LOGIN")
    postgres.execute(f"CREATE DATABASE {database}")
    monkeypatch.setenv("PORTAL_DB_APP_ROLE", role)
    owner = make_engine(postgres.url(database))
    upgrade(owner)
    owner.dispose()
    yield role, database
    postgres.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    postgres.execute(f"DROP ROLE IF EXISTS {role}")


def test_the_app_role_can_append_and_read_but_not_change_the_log(
        postgres: PostgresServer, app_role: tuple[str, str]) -> None:
    role, database = app_role
    as_app = make_engine(postgres.url(database).replace("postgres@", f"{role}@", 1))
    try:
        append(as_app, 3)  # the head UPDATE, the record INSERT and the SELECTs are granted
        with as_app.connect() as conn:
            assert conn.scalar(text("SELECT max(seq) FROM access_record")) == 3
        for sql in ("UPDATE access_record SET id = id", "DELETE FROM access_record",
                    "TRUNCATE access_record", "UPDATE audit_checkpoint SET id = id",
                    "DELETE FROM audit_checkpoint", "TRUNCATE audit_checkpoint"):
            assert "permission denied" in refused(as_app, sql), sql
        for sql in ("DELETE FROM audit_chain_head", "TRUNCATE audit_chain_head"):
            assert "permission denied" in refused(as_app, sql), sql
        assert "permission denied" in refused(as_app, "UPDATE alembic_version SET "
                                                      "version_num = version_num")
        with as_app.connect() as conn:
            others = conn.scalars(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename "
                "NOT IN ('access_record', 'audit_checkpoint', 'audit_chain_head', "
                "'alembic_version')")).all()
            assert "person" in others
            for table in others:  # also the tables later migrations created
                assert conn.scalar(text(
                    "SELECT has_table_privilege(current_user, :t, 'SELECT,INSERT,UPDATE,DELETE')"
                ), {"t": table}), table
    finally:
        as_app.dispose()


def test_the_grants_refuse_a_role_name_that_is_not_plain(
        postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> None:
    database = f"t_badrole_{uuid.uuid4().hex[:10]}"
    postgres.execute(f"CREATE DATABASE {database}")
    monkeypatch.setenv("PORTAL_DB_APP_ROLE", 'app"; DROP TABLE person; --')
    engine = create_engine(postgres.url(database))
    try:
        with pytest.raises(ValueError, match="not a plain role name"):
            upgrade(engine)
    finally:
        engine.dispose()
        postgres.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
