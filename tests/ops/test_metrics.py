"""Prometheus metrics: never public by default, per route template, read at scrape time."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from conftest import StartPortal
from portal import metrics
from portal.audit.models import AuditCheckpoint
from portal.db import unit_of_work
from portal.demo import DEMO_CASE, stable_id
from portal.mail.catcher import free_port
from portal.mail.models import OutboxMessage
from portal.mail.service import enqueue
from portal.mail.worker import RoundWorker
from tests.documents.helpers import CASE_PATH, legacy_minutes
from tests.harness import Running

TOKEN = "m" * 40
CASE_ID = stable_id("case", DEMO_CASE.key)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(running: Running) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = httpx.get(f"{running.base_url}/metrics",
                         headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_no_metrics_endpoint_unless_configured(running: Running) -> None:
    response = httpx.get(f"{running.base_url}/metrics")
    assert response.status_code == 404
    assert "portal_" not in response.text
    assert running.portal.metrics_server is None


def test_a_wrong_or_missing_token_gets_nothing(sqlite_url: str,
                                               start_portal: StartPortal) -> None:
    running = start_portal(sqlite_url, metrics_token=TOKEN)
    for headers in ({}, {"Authorization": "Bearer " + "x" * 40},
                    {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}):
        response = httpx.get(f"{running.base_url}/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert "portal_" not in response.text
    posted = httpx.post(f"{running.base_url}/metrics",
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert posted.status_code == 404 and "portal_" not in posted.text


def test_requests_are_timed_per_route_template_and_denials_counted(
        database_url: str, start_portal: StartPortal) -> None:
    running = start_portal(database_url, metrics_token=TOKEN)
    before = scrape(running)
    mentor, outsider = running.client(), running.client()
    mentor.login("mentor")
    assert mentor.get(f"/cases/{CASE_ID}").status_code == 200
    outsider.login("buitenstaander")
    assert outsider.get(f"/cases/{CASE_ID}").status_code == 404
    after = scrape(running)
    route = {"method": "GET", "route": "/cases/{case_id}"}
    counted = "portal_http_request_duration_seconds_count"
    assert value(after, counted, **route, status="2xx") \
        == value(before, counted, **route, status="2xx") + 1
    assert value(after, counted, **route, status="4xx") \
        == value(before, counted, **route, status="4xx") + 1
    assert not any(CASE_ID in str(labels) for _, labels in after), "never the raw path"
    routes = {dict(labels).get("route") for _, labels in after}
    assert any(str(route).startswith("/dev-idp/") for route in routes), \
        "a mounted app's routes under the mount's path"
    denials = {labels: n for (name, labels), n in after.items()
               if name == "portal_policy_denials_total"}
    assert sum(denials.values()) > sum(n for (name, _), n in before.items()
                                       if name == "portal_policy_denials_total")
    appended = "portal_access_record_append_seconds_count"
    assert value(after, appended) >= value(before, appended) + 2, "both reads were recorded"


def test_the_outbox_backlog_is_read_at_scrape_time(sqlite_url: str,
                                                   start_portal: StartPortal) -> None:
    running = start_portal(sqlite_url, metrics_token=TOKEN, jobs_interval_seconds=3600)
    portal = running.portal
    with portal.sessions() as db:
        waiting = db.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None))) or 0
    with unit_of_work(portal.sessions) as db:
        for n in range(3):
            enqueue(db, running.clock(), kind="test", recipient=f"r{n}@example.test",
                    subject="-", body="-")
    assert value(scrape(running), "portal_mail_outbox_backlog") == waiting + 3
    assert value(scrape(running), "portal_backlog_readable") == 1


def test_a_port_of_their_own(sqlite_url: str, start_portal: StartPortal) -> None:
    port = free_port()
    running = start_portal(sqlite_url, metrics_port=port)
    response = httpx.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200
    assert "portal_http_request_duration_seconds" in response.text
    assert "portal_mail_outbox_backlog" in response.text
    assert httpx.get(f"{running.base_url}/metrics").status_code == 404, \
        "no token configured: the portal's own port has no metrics"


def test_key_provider_errors_are_counted(sqlite_url: str, start_portal: StartPortal,
                                         keys_dir: Path, tmp_path: Path) -> None:
    keyring = tmp_path / "keyring.json"
    shutil.copyfile(keys_dir / "keyring.json", keyring)
    keyring.chmod(0o600)
    running = start_portal(sqlite_url, keyring_file=keyring, metrics_token=TOKEN)
    ib = running.client()
    ib.login("ib")
    minutes_id = legacy_minutes(running, "ib", "Notulen", "Versie een")
    before = value(scrape(running), "portal_key_provider_errors_total")
    keyring.rename(tmp_path / "elsewhere.json")
    assert ib.get(f"{CASE_PATH}/documents/{minutes_id}").status_code == 503
    assert value(scrape(running), "portal_key_provider_errors_total") == before + 1


def test_a_second_worker_on_the_same_metrics_port_still_starts(
        sqlite_url: str, start_portal: StartPortal) -> None:
    port = free_port()
    first = start_portal(sqlite_url, metrics_port=port)
    second = start_portal(sqlite_url, metrics_port=port)
    assert first.portal.metrics_server is not None and second.portal.metrics_server is None
    assert httpx.get(f"{second.base_url}/login").status_code == 200


def test_the_witness_backlog_is_read_at_scrape_time(sqlite_url: str,
                                                    start_portal: StartPortal) -> None:
    """A witness nobody answers at: every sealed checkpoint waits, and the gauge says so."""
    dead = free_port()
    running = start_portal(sqlite_url, metrics_token=TOKEN, audit_checkpoint_every=2,
                           audit_checkpoint_url=f"http://127.0.0.1:{dead}/witness")
    assert value(scrape(running), "portal_witness_backlog") == 0
    mentor = running.client()
    mentor.login("mentor")
    for _ in range(4):
        assert mentor.get(f"/cases/{CASE_ID}").status_code == 200
    with running.portal.sessions() as db:
        sealed = db.scalar(select(func.count()).select_from(AuditCheckpoint)) or 0
    assert sealed >= 2
    assert value(scrape(running), "portal_witness_backlog") == sealed


def test_without_a_witness_there_is_no_witness_gauge(sqlite_url: str,
                                                     start_portal: StartPortal) -> None:
    running = start_portal(sqlite_url, metrics_token=TOKEN)
    assert not any(name == "portal_witness_backlog" for name, _ in scrape(running))


def rounds_failed(worker: str) -> float:
    return sum(sample.value for family in metrics.ROUNDS_FAILED.collect()
               for sample in family.samples
               if sample.name.endswith("_total") and sample.labels.get("worker") == worker)


def test_a_failing_background_round_is_counted_and_the_thread_lives_on() -> None:
    rounds: list[int] = []

    def work() -> None:
        rounds.append(1)
        raise ConnectionError("the database went away")

    before = rounds_failed("test-rounds")
    worker = RoundWorker("test-rounds", work, interval=3600)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        for expected in (1, 2):
            worker.poke()
            while rounds_failed("test-rounds") < before + expected:
                assert time.monotonic() < deadline
                time.sleep(0.01)  # polling for an outcome, with a deadline
    finally:
        worker.stop()
    assert len(rounds) == 2
