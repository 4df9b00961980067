"""``/healthz`` and ``/readyz``: no session, no access record, nothing sensitive."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, make_url, select

from conftest import StartPortal
from portal.audit import health as audit_health
from portal.audit.models import AccessRecord
from portal.mail.models import OutboxMessage
from portal.ops import health
from portal.web.session_store import WebSession
from tests.harness import PostgresServer, Running


def counts(running: Running) -> tuple[int, int]:
    with running.portal.sessions() as db:
        return (db.scalar(select(func.count()).select_from(AccessRecord)) or 0,
                db.scalar(select(func.count()).select_from(WebSession)) or 0)


def test_health_and_readiness_leave_no_trace(running: Running) -> None:
    before = counts(running)
    with httpx.Client(base_url=running.base_url) as client:
        alive = client.get("/healthz")
        ready = client.get("/readyz")
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "checks": {
        "database": "ok", "migrations": "ok", "key_provider": "ok", "mail_outbox": "ok",
        "witness_backlog": "ok", "access_log": "ok"}}
    for response in (alive, ready):
        assert "set-cookie" not in response.headers
        assert response.headers["cache-control"] == "no-store"
    assert counts(running) == before, "no access record and no session"


def test_a_mail_backlog_makes_the_portal_not_ready(running_sqlite: Running,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    running_sqlite.portal.mail.stop()  # the backlog must stay put while we look
    monkeypatch.setattr(health, "OUTBOX_BACKLOG_LIMIT", 0)
    with running_sqlite.portal.sessions() as db, db.begin():
        db.add(OutboxMessage(kind="test", recipient="a@b.example", subject="s", body="b",
                             created_at=datetime.now(UTC)))
    response = httpx.get(f"{running_sqlite.base_url}/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not ready"
    assert response.json()["checks"]["mail_outbox"] == "backlog above 0"
    assert response.json()["checks"]["database"] == "ok"


def test_readiness_is_a_list_others_extend_and_failures_say_nothing(
        running_sqlite: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    def seal_refused(_: object) -> str | None:
        return "seal refused: log does not extend the last checkpoint"

    def broken(_: object) -> str | None:
        raise RuntimeError("postgresql://portal:hunter2@db/portal is down")

    monkeypatch.setattr(health, "READINESS_CHECKS",
                        [*health.READINESS_CHECKS, ("audit_log", seal_refused),
                         ("broken", broken)])
    response = httpx.get(f"{running_sqlite.base_url}/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["audit_log"] == "seal refused: log does not extend the last checkpoint"
    assert checks["broken"] == "failed"
    assert "hunter2" not in response.text


def test_every_response_has_its_own_request_id(running_sqlite: Running) -> None:
    with httpx.Client(base_url=running_sqlite.base_url) as client:
        ids = [client.get(path).headers["x-request-id"]
               for path in ("/healthz", "/healthz", "/login", "/no-such-page")]
    assert len(set(ids)) == 4
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_a_lost_database_makes_readyz_fail_while_healthz_stays_up(
        postgres: PostgresServer, postgres_url: str, start_portal: StartPortal) -> None:
    running = start_portal(postgres_url)
    running.portal.mail.stop()  # its rounds would only log the lost database
    if running.portal.witness is not None:
        running.portal.witness.stop()
    postgres.execute(f"DROP DATABASE {make_url(postgres_url).database} WITH (FORCE)")
    with httpx.Client(base_url=running.base_url) as client:
        alive = client.get("/healthz")
        ready = client.get("/readyz")
    assert alive.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "failed"
    assert set(ready.json()["checks"].values()) <= {"ok", "failed"}, "no error text leaks"


def test_an_access_log_alarm_makes_the_portal_not_ready(running_sqlite: Running) -> None:
    # The alarm sealing raises when the log no longer extends an outside checkpoint.
    audit_health.alarm(None, datetime.now(UTC), "test", "seal refused")
    try:
        response = httpx.get(f"{running_sqlite.base_url}/readyz")
    finally:
        audit_health.reset()
    assert response.status_code == 503
    assert response.json()["checks"]["access_log"] == "not provably intact"
    assert "seal refused" not in response.text, "the details stay in the log"
