"""``portal db upgrade`` grants PORTAL_DB_APP_ROLE its rights on every run (PostgreSQL).

The command is ``portal.migrate.upgrade`` on the configured engine; it is called
here with an engine the test disposes of."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from portal.db import make_engine
from portal.migrate import upgrade
from tests.harness import PostgresServer


def refused(engine: Engine, sql: str) -> str:
    with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
        conn.execute(text(sql))
    return str(caught.value.orig)


@pytest.fixture
def forgotten_role(postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
                   ) -> Iterator[tuple[Engine, str, str]]:
    """A database migrated without PORTAL_DB_APP_ROLE, the role then given ALL by hand."""
    suffix = uuid.uuid4().hex[:10]
    role, database = f"mdo_app_{suffix}", f"t_role_{suffix}"
    postgres.execute(f"CREATE ROLE {role} LOGIN")
    postgres.execute(f"CREATE DATABASE {database}")
    monkeypatch.delenv("PORTAL_DB_APP_ROLE", raising=False)
    owner = make_engine(postgres.url(database))
    upgrade(owner)
    with owner.begin() as conn:  # the operator's quick fix to get the portal running
        conn.execute(text(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}"))
    yield owner, role, database
    owner.dispose()
    postgres.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    postgres.execute(f"DROP OWNED BY {role}")
    postgres.execute(f"DROP ROLE IF EXISTS {role}")


def test_running_the_upgrade_again_repairs_a_forgotten_role(
        postgres: PostgresServer, forgotten_role: tuple[Engine, str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    owner, role, database = forgotten_role
    as_app = make_engine(postgres.url(database).replace("postgres@", f"{role}@", 1))
    try:
        with as_app.begin() as conn:  # before: the log is the role's to empty
            conn.execute(text("TRUNCATE job_lease"))
            assert conn.scalar(text("SELECT has_table_privilege(current_user, "
                                    "'access_record', 'UPDATE,DELETE,TRUNCATE')"))
        monkeypatch.setenv("PORTAL_DB_APP_ROLE", role)
        upgrade(owner)  # nothing to migrate: only the grants run
        upgrade(owner)  # and again: idempotent
        for sql in ("UPDATE access_record SET id = id", "DELETE FROM access_record",
                    "TRUNCATE access_record", "DELETE FROM audit_checkpoint",
                    "UPDATE audit_checkpoint SET id = id", "DELETE FROM audit_chain_head",
                    "UPDATE alembic_version SET version_num = version_num",
                    "TRUNCATE person"):
            assert "permission denied" in refused(as_app, sql), sql
        upgrade(as_app)  # a worker starting as the app role: at head, grants left alone
        with as_app.begin() as conn:  # the portal's own work still goes
            conn.execute(text("SELECT count(*) FROM access_record"))
            conn.execute(text("DELETE FROM job_lease"))
            assert conn.scalar(text("SELECT has_table_privilege(current_user, "
                                    "'access_record', 'INSERT')"))
    finally:
        as_app.dispose()


def test_the_upgrade_refuses_a_role_name_that_is_not_plain(
        forgotten_role: tuple[Engine, str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_DB_APP_ROLE", "app; DROP TABLE person")
    with pytest.raises(ValueError, match="not a plain role name"):
        upgrade(forgotten_role[0])
