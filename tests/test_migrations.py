"""Models and migrations agree on both engines (``alembic check``)."""

from __future__ import annotations

from portal.db import make_engine
from portal.migrate import check


def test_models_match_migrations(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        check(engine)
    finally:
        engine.dispose()
