"""Alembic environment: the engine comes from the portal (or PORTAL_* settings)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

import portal.models  # noqa: F401  (registers every table on the metadata)
from portal.db import Base, make_engine
from portal.settings_env import load_settings

config = context.config


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine
    return make_engine(load_settings().effective_database_url)


def run_migrations_online() -> None:
    with _engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
