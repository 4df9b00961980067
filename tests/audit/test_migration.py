"""Records written before the chain existed are chained by the migration, in time order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from portal.audit import ledger
from portal.audit.replay import verify_database
from portal.audit.service import Requester, record
from portal.db import make_engine, session_factory, unit_of_work
from portal.migrate import upgrade

START = datetime(2026, 1, 5, 9, 0, 0, 123456, tzinfo=UTC)



def test_foundation_records_are_chained_and_the_chain_continues(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        upgrade(engine, "0001")
        with engine.begin() as conn:
            for index in (2, 0, 1):  # inserted out of time order
                conn.execute(text(
                    "INSERT INTO access_record (id, occurred_at, action_code, event_type, "
                    "outcome, reason, basis, user_name, source) VALUES (:id, :at, 'R', "
                    "'case.view', :outcome, :reason, :basis, :name, 'mdo-portal')"),
                    {"id": str(uuid.uuid4()), "at": START + timedelta(minutes=index),
                     "outcome": "denied" if index == 1 else "allowed",
                     "reason": "not_a_participant" if index == 1 else None,
                     "basis": None if index == 1 else "participant:chair;basis:consent",
                     "name": f"Persoon {index}\n"})
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT seq, user_name, authorised, relation_to_case, consent_present "
                "FROM access_record ORDER BY seq")).all()
        assert [(r[0], r[1]) for r in rows] == [(1, "Persoon 0\n"), (2, "Persoon 1\n"),
                                                (3, "Persoon 2\n")]
        assert [tuple(r[2:]) for r in rows] == [(True, True, True), (False, False, False),
                                                (True, True, True)]
        with unit_of_work(session_factory(engine)) as db:
            who = Requester(None, "Nieuw", None, None, None, None)
            made = record(db, who, START + timedelta(hours=1), event_type="case.view",
                          action="read", outcome="allowed")
        assert made.seq == 4  # chained when its transaction committed
        report = verify_database(engine, [], [])
        assert report.ok and report.records_checked == 4, report.describe()
        # The records of before are counted per Dutch day by the migration (0038), and
        # the new one with the chain head: the day chart has all four.
        with unit_of_work(session_factory(engine)) as db:
            assert ledger.day_counts(db, START.date(), START.date()) == {START.date(): (3, 0, 1)}
    finally:
        engine.dispose()
