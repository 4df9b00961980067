"""Checkpoints posted to a witness URL: a real HTTP server on loopback that goes
down and comes back; reads never wait for it and the DPO sees the backlog."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from portal.audit.checkpoint import open_checkpoint_any, parse_verifier_key
from portal.audit.keys import load_signing_key, vkey_of
from portal.audit.ledger import all_checkpoints
from portal.audit.models import WitnessDelivery
from portal.audit.witness import WitnessTarget, push_pending
from portal.demo import DEMO_CASE, stable_id
from portal.settings import SettingsError, load_settings
from tests.harness import Running

CASE_ID = stable_id("case", DEMO_CASE.key)
TOKEN = "witness-token-1"


class Witness:
    """A loopback HTTP server that stores what it is sent; stop() and start() again."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []  # (Authorization header, body)
        self.port = 0
        self._server: HTTPServer | None = None

    def start(self) -> None:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                received.append((self.headers.get("Authorization", ""), body))
                self.send_response(201 if self.headers.get("Authorization") ==
                                   f"Bearer {TOKEN}" else 401)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = HTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/checkpoints"


@pytest.fixture
def witness() -> Iterator[Witness]:
    server = Witness()
    server.start()
    yield server
    server.stop()


def read_case(running: Running, times: int) -> None:
    client = running.client()
    client.login("ib")
    for _ in range(times):
        assert client.page(f"/cases/{CASE_ID}").status_code == 200


def deliveries(running: Running) -> dict[int, WitnessDelivery]:
    with running.portal.sessions() as db:
        return {row.size: row for row in db.scalars(select(WitnessDelivery))}


def wait_for(condition: Any, seconds: float = 15.0) -> None:
    # Waiting for the background thread, not measuring it.
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the witness pusher never got there"
        time.sleep(0.05)


def test_sealed_checkpoints_reach_the_witness(start_portal: Any, sqlite_url: str,
                                              witness: Witness) -> None:
    running: Running = start_portal(sqlite_url, audit_checkpoint_every=3,
                                    audit_checkpoint_url=witness.url,
                                    audit_checkpoint_token=TOKEN)
    read_case(running, 4)
    with running.portal.sessions() as db:
        sealed = all_checkpoints(db)
    assert sealed
    wait_for(lambda: len(witness.received) >= len(sealed))
    assert [body for _, body in witness.received[:len(sealed)]] == [n for _, n in sealed]
    assert {auth for auth, _ in witness.received} == {f"Bearer {TOKEN}"}
    settings = running.portal.settings
    origin = settings.effective_audit_origin
    vkey = vkey_of(origin, load_signing_key(settings.audit_signing_key))
    # What the witness got is the signed checkpoint itself, checkable with the vkey alone.
    assert open_checkpoint_any(witness.received[0][1], [parse_verifier_key(vkey)]).size == \
        sealed[0][0]
    wait_for(lambda: all(r.delivered_at for r in deliveries(running).values())
             and len(deliveries(running)) >= len(sealed))


def test_a_dead_witness_blocks_nothing_and_the_backlog_follows(
        start_portal: Any, sqlite_url: str, witness: Witness) -> None:
    witness.stop()
    running: Running = start_portal(sqlite_url, audit_checkpoint_every=2,
                                    audit_checkpoint_url=witness.url,
                                    audit_checkpoint_token=TOKEN)
    portal = running.portal
    target = WitnessTarget(witness.url, TOKEN)
    read_case(running, 5)  # reads succeed while nobody listens
    with portal.sessions() as db:
        sealed = [size for size, _ in all_checkpoints(db)]
    assert len(sealed) >= 2
    assert push_pending(portal.sessions, target, portal.clock) == 0
    failed = deliveries(running)[sealed[0]]
    assert failed.delivered_at is None and failed.attempts >= 1
    assert failed.last_error == "ConnectionError"

    dpo = running.client()
    dpo.login("fg")
    page = dpo.page("/audit")
    assert page.status_code == 200
    assert "Controlepunten nog niet afgeleverd bij de getuige:" in page.text
    assert "ConnectionError" in page.text

    witness.start()  # same port: the witness comes back
    wait_for(lambda: push_pending(portal.sessions, target, portal.clock) >= 0 and
             all(deliveries(running).get(s) and deliveries(running)[s].delivered_at
                 for s in sealed))
    assert [int(body.split("\n")[1]) for _, body in witness.received][:len(sealed)] == sealed
    # The page's own search record may seal a checkpoint not sent yet; the failure is gone.
    assert "ConnectionError" not in dpo.page("/audit").text


def test_a_refusing_witness_is_a_failure(start_portal: Any, sqlite_url: str,
                                         witness: Witness) -> None:
    running: Running = start_portal(sqlite_url, audit_checkpoint_every=2)
    read_case(running, 3)
    portal = running.portal
    assert push_pending(portal.sessions, WitnessTarget(witness.url, "wrong"),
                        portal.clock) == 0
    assert {row.last_error for row in deliveries(running).values()} == {"HTTP 401"}


def test_witness_settings(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n")
    settings = load_settings({"PORTAL_AUDIT_CHECKPOINT_URL": "https://witness.example/add",
                              "PORTAL_AUDIT_CHECKPOINT_TOKEN_FILE": str(secret)})
    assert settings.audit_checkpoint_url == "https://witness.example/add"
    assert settings.audit_checkpoint_token == TOKEN
    with pytest.raises(SettingsError, match="PORTAL_AUDIT_CHECKPOINT_URL"):
        load_settings({"PORTAL_AUDIT_CHECKPOINT_URL": "ftp://witness.example"})
