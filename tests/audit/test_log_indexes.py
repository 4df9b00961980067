"""The FG's log filters are served by indexes on PostgreSQL (EXPLAIN, not timings).

A log of a few thousand rows is inserted directly (its chain is irrelevant to the
query plans) and analysed. Sequential scans are switched off for the session:
PostgreSQL then still reads the whole table when no index can answer the query,
so the plan shows whether an index *can* serve each filter, whatever the
planner's cost estimates for a small table would choose.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Select, func, select, text

from portal.audit.models import AccessRecord
from portal.audit.views import COUNT_CAP, SEARCH_PAGE, Filters, conditions
from portal.db import make_engine

ROWS = 4000


def _id(seed: str) -> str:
    return str(uuid.UUID(hashlib.md5(seed.encode()).hexdigest()))  # noqa: S324


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Connection]:
    engine = make_engine(postgres_url)
    with engine.connect() as conn:
        conn.execute(text("ALTER TABLE access_record DISABLE TRIGGER USER"))
        conn.execute(text("""
            INSERT INTO access_record (id, seq, occurred_at, action_code, event_type, outcome,
              authorised, relation_to_case, consent_present, emergency_procedure, user_id,
              user_name, user_organisation_id, case_id, child_id, source, prev_hash,
              record_hash, encoding)
            SELECT md5(g::text)::uuid::text, g,
              timestamptz '2026-01-01' + g * interval '1 minute', 'R', 'case.view',
              'allowed', true, true, false, false,
              CASE WHEN g % 20 = 0 THEN NULL ELSE md5('u' || (g % 200)::text)::uuid::text END,
              'User ' || (g % 200), md5('o' || (g % 40)::text)::uuid::text,
              md5('c' || (g % 500)::text)::uuid::text, md5('k' || (g % 400)::text)::uuid::text,
              'mdo-portal', '\\x00', '\\x00', '\\x00'
            FROM generate_series(1, :n) g"""), {"n": ROWS})
        conn.execute(text("ANALYZE access_record"))
        conn.execute(text("SET enable_seqscan = off"))
        yield conn
        conn.rollback()
    engine.dispose()


def _plans(conn: Connection, filters: Filters) -> list[str]:
    where = conditions(filters)
    page = (select(AccessRecord.seq).where(*where).order_by(AccessRecord.seq.desc())
            .limit(SEARCH_PAGE + 1))
    capped = select(AccessRecord.seq).where(*where).limit(COUNT_CAP + 1).subquery()
    queries: list[Select[Any]] = [page, select(func.count()).select_from(capped)]
    plans = []
    for query in queries:
        sql = str(query.compile(conn.engine, compile_kwargs={"literal_binds": True}))
        plans.append("\n".join(conn.execute(text(f"EXPLAIN {sql}")).scalars()))
    return plans


@pytest.mark.parametrize("filters", [
    Filters(person=_id("u7")),
    Filters(person="user 7", person_ids=(_id("u7"), _id("u17"))),  # by name: looked-up ids
    Filters(organisation=_id("o3")),
    Filters(case=_id("c5")),
    Filters(child=_id("k9")),
], ids=["person id", "person name", "organisation", "case", "child"])
def test_each_filter_of_the_fgs_log_is_served_by_an_index(pg: Connection,
                                                          filters: Filters) -> None:
    for plan in _plans(pg, filters):
        assert "Seq Scan on access_record" not in plan, plan
        assert "Index" in plan, plan
