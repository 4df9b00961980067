"""Counting the SQL statements a request runs: a count, never a timing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


class Statements(list[tuple[int, str]]):
    """(thread, statement) for every statement the engine ran (one per ``executemany``)."""

    def of_requests(self) -> list[str]:
        """Only those of the threads that served a request (each reads its web session):
        the portal's background jobs share the engine and run when they please. The
        session sweeper deletes from ``web_session``: a read, not a mention, marks a
        request (counting the sweeper's thread made the counts differ at random)."""
        served = {thread for thread, sql in self
                  if sql.lstrip().startswith("SELECT") and "FROM web_session" in sql}
        return [sql for thread, sql in self if thread in served]


@contextmanager
def counted(engine: Engine) -> Iterator[Statements]:
    statements = Statements()

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append((threading.get_ident(), statement))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
