"""The background session purge: expired sessions go, anonymous ones included."""

from __future__ import annotations

from sqlalchemy import select

from portal.db import unit_of_work
from portal.demo import stable_id
from portal.jobs.schedule import background_jobs
from portal.web.session_store import WebSession
from tests.harness import Running


def run_background_jobs(running: Running) -> None:
    portal = running.portal
    for job in background_jobs(portal.settings, portal.vault):
        with unit_of_work(portal.sessions) as db:
            job(db, running.clock())


def sessions_by_user(running: Running) -> list[str | None]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(WebSession.user_id)))


def test_a_login_page_visit_leaves_no_session_behind(running: Running) -> None:
    visitor, mentor = running.client(), running.client()
    assert visitor.get("/login").status_code == 200
    mentor.login("mentor")
    assert None in sessions_by_user(running), "an anonymous visit opens a session"
    running.clock.advance(minutes=10)
    assert mentor.get("/cases").status_code == 200  # still working
    running.clock.advance(minutes=10)  # the visitor is 20 minutes idle, the mentor 10
    run_background_jobs(running)
    assert sessions_by_user(running) == [stable_id("person", "mentor")]
    assert mentor.get("/cases").status_code == 200


def test_a_session_past_its_absolute_timeout_is_purged(running: Running) -> None:
    mentor = running.client()
    mentor.login("mentor")
    for _ in range(32):  # active all day long, never idle for more than 15 minutes
        running.clock.advance(minutes=14, seconds=59)
        assert mentor.get("/cases").status_code == 200
    running.clock.advance(minutes=14)  # 8 hours 13 minutes in, 14 minutes idle
    run_background_jobs(running)
    assert sessions_by_user(running) == []
