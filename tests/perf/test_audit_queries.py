"""The FG's log queries, now counted by the database and found through person ids,
give what the old Python bucketing and name scan gave, on the same data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from portal.audit.charts import DayCount
from portal.audit.models import AccessRecord
from portal.audit.service import Requester, record
from portal.audit.views import (
    Filters,
    conditions,
    day_counts,
    kept_day_counts,
    local_day_start,
)
from portal.demo import stable_id
from portal.localtime import LOCAL_TIME
from portal.people.models import Person
from tests.harness import Running
from tests.perf.statements import counted

# Around the end of daylight saving time (25 October 2026) and across local midnight.
FIRST, LAST = date(2026, 10, 20), date(2026, 10, 30)


def old_day_counts(db: Session, where: Sequence[ColumnElement[bool]], first: date,
                   last: date) -> list[DayCount]:
    """The bucketing in Python this replaced, kept as the reference."""
    counts = {first + timedelta(days=i): [0, 0, 0] for i in range((last - first).days + 1)}
    rows = db.execute(
        select(AccessRecord.occurred_at, AccessRecord.outcome,
               AccessRecord.emergency_procedure)
        .where(*where, AccessRecord.occurred_at >= local_day_start(first),
               AccessRecord.occurred_at < local_day_start(last + timedelta(days=1))))
    for occurred_at, outcome, emergency in rows:
        bucket = counts.get(occurred_at.astimezone(LOCAL_TIME).date())
        if bucket is not None:
            bucket[0 if outcome == "allowed" and not emergency else
                   1 if outcome == "allowed" else 2] += 1
    return [DayCount(day, *values) for day, values in counts.items()]


def _who(user_id: str | None, name: str | None) -> Requester:
    return Requester(user_id=user_id, user_name=name, user_role="test", organisation_id=None,
                     session_ref=None, client_address=None)


def _fill(running: Running) -> None:
    """Records every 53 minutes from before FIRST to after LAST, by several people
    (and by nobody: the system), allowed, denied and under break-glass."""
    moment = datetime(2026, 10, 18, 21, 0, tzinfo=UTC)
    n = 0
    with running.portal.sessions() as db:
        # A professional's record carries the name they had (here: have).
        people = [_who(stable_id("person", persona), db.get_one(Person, stable_id(
                      "person", persona)).display_name) for persona in ("ib", "mentor")]
        people += [_who(None, "portal init"), _who(None, "scim:50%_korting"),
                   _who(stable_id("person", "ouder1"), None)]
        while moment < datetime(2026, 11, 1, 2, 0, tzinfo=UTC):
            outcome = ("allowed", "denied", "allowed")[n % 3]
            record(db, people[n % len(people)], moment, event_type="case.view", action="read",
                   outcome=outcome, break_glass_id=stable_id("grant", "x") if n % 7 == 0
                   else None)
            moment += timedelta(minutes=53)
            n += 1
        db.commit()


def test_day_counts_equal_the_python_bucketing(running: Running) -> None:
    _fill(running)
    with running.portal.sessions() as db:
        for filters in (Filters(), Filters(outcome="denied"), Filters(person="ilse"),
                        Filters(person="PORTAL"), Filters(break_glass=True),
                        Filters(person="nobody")):
            where = conditions(filters)
            new = day_counts(db, where, FIRST, LAST)
            assert new == old_day_counts(db, where, FIRST, LAST), filters
        assert sum(d.total for d in day_counts(db, [], FIRST, LAST)) > 200
        # The day of the switch back has 25 hours, and they are all in it.
        (switch,) = [d for d in day_counts(db, [], FIRST, LAST) if d.day == date(2026, 10, 25)]
        assert switch.total in (28, 29)


def test_person_filter_finds_what_the_name_scan_found(running: Running) -> None:
    _fill(running)
    with running.portal.sessions() as db:
        def seqs(where: Sequence[ColumnElement[bool]]) -> set[int]:
            return set(db.scalars(select(AccessRecord.seq).where(*where)))

        for fragment in ("ilse", "BAKKER", "e", "portal init", "50%", "%", "_", "scim:5",
                         "nobody", "ilse bakker", " "):
            old = seqs([func.lower(AccessRecord.user_name).contains(fragment.lower(),
                                                                    autoescape=True)])
            assert seqs(conditions(Filters(person=fragment))) == old, fragment
        assert seqs(conditions(Filters(person="ilse")))
        # A citizen's records carry no name and are found by id only, as before.
        ouder = stable_id("person", "ouder1")
        assert seqs(conditions(Filters(person=ouder)))


def test_kept_day_counts_equal_the_counted_ones(running: Running) -> None:
    """The counts kept with the chain (the head's day and audit_day_count, which the
    supervisor's chart reads) are what counting the log gives: across the switch to
    winter time and local midnight, for back-dated records, for a later day that moves
    the head on, without what a rolled-back savepoint appended, and with what this
    transaction appended before it commits."""
    _fill(running)  # back-dated: the demo's records put the head's day in December
    today = running.clock().astimezone(LOCAL_TIME).date()
    first, last = FIRST, today + timedelta(days=3)
    who = _who(None, "portal init")
    with running.portal.sessions() as db:
        assert kept_day_counts(db, first, last) == day_counts(db, [], first, last)
        record(db, who, running.clock(), event_type="case.view", action="read",
               outcome="denied")
        nested = db.begin_nested()
        record(db, who, running.clock() + timedelta(days=2), event_type="case.view",
               action="read", outcome="allowed")
        nested.rollback()
        record(db, who, datetime(2026, 10, 25, 1, 30, tzinfo=UTC), event_type="case.view",
               action="execute", outcome="allowed", break_glass_id=stable_id("grant", "x"))
        # Uncommitted, in this transaction: the chart of the FG's own search sees it.
        assert kept_day_counts(db, first, last) == day_counts(db, [], first, last)
        db.commit()
    with running.portal.sessions() as db:
        kept = kept_day_counts(db, first, last)
        assert kept == day_counts(db, [], first, last)
        assert sum(d.total for d in kept if d.day > today) == 0  # the savepoint's is gone
        record(db, who, running.clock() + timedelta(days=1), event_type="case.view",
               action="read", outcome="allowed")  # the head moves on to tomorrow
        db.commit()
    with running.portal.sessions() as db:
        kept = kept_day_counts(db, first, last)
        assert kept == day_counts(db, [], first, last)
        assert [d.total for d in kept if d.day > today] == [1, 0, 0]
        (switch,) = [d for d in kept if d.day == date(2026, 10, 25)]
        assert switch.break_glass >= 1


def _counts_the_log(running: Running, path: str) -> bool:
    """Whether the FG's page at ``path`` grouped access records to draw its chart."""
    fg = running.client()
    fg.login("fg")
    with counted(running.portal.engine) as statements:
        assert fg.get(path).status_code == 200
    return any("GROUP BY" in sql and "access_record" in sql for sql in statements.of_requests())


def test_the_supervisors_chart_reads_the_kept_counts(running: Running) -> None:
    """The supervisor's landing page and a search by dates only draw the chart from the
    kept counts, a row per day however long the log; any other filter counts the
    records it matches (the kept counts cannot know them)."""
    _fill(running)
    assert not _counts_the_log(running, "/audit")
    assert not _counts_the_log(running, f"/audit?date_from={FIRST}&date_to={LAST}")
    assert _counts_the_log(running, "/audit?outcome=denied")
    assert _counts_the_log(running, f"/audit?date_from={FIRST}&person=ilse")
