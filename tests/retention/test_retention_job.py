"""The retention job under a frozen clock: confirmation first, holds, crash-safety, the preview."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import AccessRecord
from portal.audit.service import Requester
from portal.cases.models import Case
from portal.demo import stable_id
from portal.people.models import PersonKind, Role
from portal.policy import Actor
from portal.retention import job, service
from portal.retention.models import (
    CountedFrom,
    HoldReason,
    LegalHold,
    RetentionErasure,
    RetentionPolicy,
)
from portal.retention.rules import NOTICE, add_months
from tests.harness import Running
from tests.retention.helpers import (
    ADMIN,
    NOOR,
    SAM_CASE,
    SCHOOL,
    YOUTH_CARE,
    close,
    confirm,
    intact,
    shredded,
)


def _run(running: Running, now: datetime) -> int:
    with running.portal.sessions() as db:
        count = job.run_retention(db, running.portal.vault, now)
        db.commit()
    return count


def _closed(running: Running) -> datetime:
    """Both demo cases closed now; the job is then run at dates after this."""
    closed = running.clock.now
    with running.portal.sessions() as db:
        close(db, SAM_CASE, closed)
        close(db, NOOR, closed)
        db.commit()
    return closed


def _state(running: Running, case_id: str) -> str:
    with running.portal.sessions() as db:
        vault = running.portal.vault
        if intact(db, vault, case_id):
            return "intact"
        return "shredded" if shredded(db, vault, case_id) else "broken"


def test_nothing_is_deleted_before_the_board_confirmed_a_policy(running_sqlite: Running) -> None:
    closed = _closed(running_sqlite)
    assert _run(running_sqlite, closed + timedelta(days=365 * 50)) == 0
    assert _state(running_sqlite, SAM_CASE) == "intact"
    assert _state(running_sqlite, NOOR) == "intact"


def test_a_school_case_goes_when_its_confirmed_period_ran_out(running_sqlite: Running) -> None:
    closed = _closed(running_sqlite)
    with running_sqlite.portal.sessions() as db:
        confirm(db, SCHOOL, 24, CountedFrom.CASE_CLOSED, closed)
        db.commit()
    expires = add_months(closed, 24)
    assert _run(running_sqlite, expires - timedelta(seconds=1)) == 0
    assert _state(running_sqlite, SAM_CASE) == "intact"
    # Noor's case has a youth-care organisation that confirmed nothing: it stays.
    assert _run(running_sqlite, expires) == 1
    assert _state(running_sqlite, SAM_CASE) == "shredded"
    assert _state(running_sqlite, NOOR) == "intact"
    with running_sqlite.portal.sessions() as db:
        erasure = db.scalars(select(RetentionErasure)).one()
        assert (erasure.case_id, erasure.period_months, erasure.counted_from,
                erasure.expired_at) == (SAM_CASE, 24, CountedFrom.CASE_CLOSED, expires)
        logged = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "retention.erase")).one()
        assert (logged.case_id, logged.outcome) == (SAM_CASE, "allowed")
        assert logged.reason == "retention:case_file:24m:case_closed"
        case = db.get_one(Case, SAM_CASE)
        assert (case.erased_by, case.erased_by_role) == (ADMIN, "retention")
    assert _run(running_sqlite, expires + timedelta(days=1)) == 0, "once, not again"


def test_a_new_confirmation_gives_30_days_notice_before_anything_goes(
        running_sqlite: Running) -> None:
    closed = _closed(running_sqlite)
    confirmed = add_months(closed, 60)  # the board decides long after the period ran out
    with running_sqlite.portal.sessions() as db:
        confirm(db, SCHOOL, 24, CountedFrom.CASE_CLOSED, confirmed)
        db.commit()
        rows = service.expiring(db, frozenset({SCHOOL}), confirmed)
        assert [(r.case_id, r.expires_at) for r in rows] == [(SAM_CASE, confirmed + NOTICE)]
    assert _run(running_sqlite, confirmed + NOTICE - timedelta(seconds=1)) == 0
    assert _run(running_sqlite, confirmed + NOTICE) == 1
    assert _state(running_sqlite, SAM_CASE) == "shredded"


def test_the_longest_period_of_the_organisations_in_a_case_decides(
        running_sqlite: Running) -> None:
    closed = _closed(running_sqlite)
    with running_sqlite.portal.sessions() as db:
        confirm(db, SCHOOL, 24, CountedFrom.CASE_CLOSED, closed)
        confirm(db, YOUTH_CARE, 240, CountedFrom.LAST_ENTRY, closed)
        db.commit()
    assert _run(running_sqlite, add_months(closed, 239)) == 1  # Sam's (school only)
    assert _state(running_sqlite, NOOR) == "intact"
    assert _run(running_sqlite, add_months(closed, 240)) == 1  # Noor's: the Jeugdwet's 20 years
    assert _state(running_sqlite, NOOR) == "shredded"


@pytest.mark.parametrize("on", ["case", "child"])
def test_a_legal_hold_keeps_the_case_until_it_is_lifted(running_sqlite: Running,
                                                         on: str) -> None:
    closed = _closed(running_sqlite)
    fg = _fg()
    who = _who()
    with running_sqlite.portal.sessions() as db:
        confirm(db, SCHOOL, 24, CountedFrom.CASE_CLOSED, closed)
        hold = service.place_hold(db, who, fg, closed, case_id=SAM_CASE,
                                  whole_child=on == "child",
                                  reason=HoldReason.LITIGATION.value)
        hold_id = hold.id
        db.commit()
    late = add_months(closed, 120)
    assert _run(running_sqlite, late) == 0
    assert _state(running_sqlite, SAM_CASE) == "intact"
    with running_sqlite.portal.sessions() as db:
        service.lift_hold(db, who, fg, late, hold_id=hold_id, reason="ended")
        db.commit()
        assert db.get_one(LegalHold, hold_id).lifted_at == late
    assert _run(running_sqlite, late) == 1
    assert _state(running_sqlite, SAM_CASE) == "shredded"


def test_a_failure_midway_leaves_each_case_whole_or_fully_shredded(
        running_sqlite: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    closed = _closed(running_sqlite)
    with running_sqlite.portal.sessions() as db:
        confirm(db, SCHOOL, 24, CountedFrom.CASE_CLOSED, closed)
        confirm(db, YOUTH_CARE, 24, CountedFrom.CASE_CLOSED, closed)
        db.commit()
    real = job.shred_case
    order = sorted([SAM_CASE, NOOR])

    def failing(*args: object, **kwargs: object) -> dict[str, int]:
        summary = real(*args, **kwargs)  # type: ignore[arg-type]
        if args[2].id == order[0]:  # type: ignore[attr-defined]
            raise RuntimeError("injected: the disk filled up after the keys went")
        return summary

    monkeypatch.setattr(job, "shred_case", failing)
    now = add_months(closed, 24)
    assert _run(running_sqlite, now) == 1
    assert _state(running_sqlite, order[0]) == "intact"
    assert _state(running_sqlite, order[1]) == "shredded"

    # A crash that ends the process (not an Exception): what was committed stays.
    def crashing(*args: object, **kwargs: object) -> dict[str, int]:
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(job, "shred_case", crashing)
    with pytest.raises(KeyboardInterrupt), running_sqlite.portal.sessions() as db:
        job.run_retention(db, running_sqlite.portal.vault, now)
    assert _state(running_sqlite, order[0]) == "intact"
    with running_sqlite.portal.sessions() as db:
        assert db.scalar(select(func.count()).select_from(RetentionErasure)) == 1
        assert db.scalar(select(func.count()).where(
            AccessRecord.event_type == "retention.erase")) == 1

    monkeypatch.setattr(job, "shred_case", real)
    assert _run(running_sqlite, now) == 1
    assert _state(running_sqlite, order[0]) == "shredded"


def test_the_preview_shows_what_expires_within_30_days(running_sqlite: Running) -> None:
    closed = _closed(running_sqlite)
    with running_sqlite.portal.sessions() as db:
        confirm(db, SCHOOL, 24, CountedFrom.CASE_CLOSED, closed)
        db.commit()
        expires = add_months(closed, 24)
        fg = _fg()
        assert service.expiring_count(db, fg, expires - timedelta(days=31)) == 0
        rows = service.expiring(db, frozenset({SCHOOL}), expires - timedelta(days=30))
        assert [(r.case_id, r.expires_at, r.held) for r in rows] == [(SAM_CASE, expires, False)]
        assert service.expiring_count(db, fg, expires - timedelta(days=1)) == 1
        # An FG of another organisation does not see it.
        assert service.expiring(db, frozenset({"elsewhere"}), expires) == []
        policy = db.scalars(select(RetentionPolicy)).one()
        assert policy.period_months == 24


def _fg() -> Actor:
    return Actor(person_id=stable_id("person", "fg"), kind=PersonKind.PROFESSIONAL,
                 name="Fenna Gerritsen",
                 memberships=frozenset({(stable_id("org", "portaalbeheer"), Role.DPO)}))


def _who() -> Requester:

    return Requester(user_id=_fg().person_id, user_name="Fenna Gerritsen", user_role="dpo",
                     organisation_id=None, session_ref=None, client_address="127.0.0.1")
