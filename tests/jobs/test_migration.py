"""Migration 0016 (leases) goes down and up again on a database with data, on each engine."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from portal.db import make_engine
from portal.migrate import alembic_config, check, upgrade


def test_the_lease_migration_goes_down_and_up(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        command.downgrade(alembic_config(engine), "0015")
        columns = {c["name"] for c in inspect(engine).get_columns("mail_outbox")}
        assert "lease_until" not in columns
        assert "job_lease" not in inspect(engine).get_table_names()
        upgrade(engine)
        check(engine)
    finally:
        engine.dispose()
