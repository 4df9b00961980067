"""Run Alembic migrations from code (``portal db upgrade`` and the tests)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

ROOT = Path(__file__).resolve().parents[1]
ROLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
# Tables whose rows a trigger keeps from changing (migration 0002 and later):
# the app role reads and appends there, nothing else.
APPEND_ONLY_TABLES = text(
    "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE p.proname = 'audit_append_only' AND n.nspname = 'public' AND NOT t.tgisinternal "
    "AND c.relname <> 'audit_chain_head' ORDER BY c.relname")


def alembic_config(engine: Engine) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate, then (PostgreSQL) grant ``PORTAL_DB_APP_ROLE`` its rights again.

    The grants run on every upgrade, also when there was nothing to migrate,
    so a role forgotten at the first migration, or given too much by hand
    since, is put right by running the upgrade again."""
    command.upgrade(alembic_config(engine), revision)
    role = os.environ.get("PORTAL_DB_APP_ROLE", "").strip()
    if role and engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            # `portal run` migrates too: a worker connected as the app role
            # itself (the variable set for every process) has nothing to grant.
            if conn.scalar(text("SELECT current_user")) != role:
                grant_app_role(conn, role)


def grant_app_role(conn: Connection, role: str) -> list[str]:
    """Full DML on the portal's tables; read and append only on the log. Idempotent.

    Returns the append-only tables it found, so a caller can say what it did."""
    if not ROLE_NAME.fullmatch(role):
        raise ValueError(f"PORTAL_DB_APP_ROLE {role!r} is not a plain role name")
    name = conn.dialect.identifier_preparer.quote(role)
    log_tables = list(conn.scalars(APPEND_ONLY_TABLES))
    statements = [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {name}",
        # Whatever was granted by hand beyond this (ALL, TRUNCATE) goes.
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {name}",
        f"REVOKE ALL ON alembic_version FROM {name}",
        f"GRANT SELECT ON alembic_version TO {name}",
        f"REVOKE ALL ON audit_chain_head FROM {name}",
        f"GRANT SELECT, UPDATE ON audit_chain_head TO {name}",
    ]
    for table in log_tables:
        quoted = conn.dialect.identifier_preparer.quote(table)
        statements += [f"REVOKE ALL ON {quoted} FROM {name}",
                       f"GRANT SELECT, INSERT ON {quoted} TO {name}"]
    for statement in statements:
        conn.execute(text(statement))
    return log_tables


def check(engine: Engine) -> None:
    """Raise if the models and the migrations disagree (``alembic check``)."""
    command.check(alembic_config(engine))
