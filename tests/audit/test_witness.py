"""Checkpoints delivered to a real witness process (``portal witness serve`` on loopback)
that goes down and comes back; reads never wait for it, the DPO sees the backlog, and
"delivered" is the witness's cosignature, not a flag in the database."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import select, text

from portal.audit import health
from portal.audit.checkpoint import verifier_key
from portal.audit.cosignature import cosign, open_cosignature, parse_cosigner_vkey
from portal.audit.keys import prepare_signing_key
from portal.audit.ledger import all_checkpoints
from portal.audit.models import WitnessCosignature, WitnessDelivery
from portal.audit.witness import WitnessTarget, cosigned_size, push_pending, status
from portal.demo import DEMO_CASE, stable_id
from portal.settings import SettingsError
from portal.settings_env import load_settings
from tests.harness import Running
from tests.witness.process import WitnessProcess

CASE_ID = stable_id("case", DEMO_CASE.key)
ORIGIN = "mdo-portal.invalid/access-log"
LOG_KEY = Ed25519PrivateKey.generate()
LOG_PEM = LOG_KEY.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


@pytest.fixture
def witness(tmp_path: Path) -> Iterator[WitnessProcess]:
    process = WitnessProcess(tmp_path, [verifier_key(ORIGIN, LOG_KEY.public_key())]).start()
    yield process
    process.stop()


def portal_with(start_portal: Any, url: str, witness: WitnessProcess,
                **overrides: Any) -> Running:
    running: Running = start_portal(url, audit_signing_key=LOG_PEM,
                                    audit_checkpoint_url=witness.url,
                                    audit_witness_vkey=witness.vkey, **overrides)
    return running


def target_of(witness: WitnessProcess) -> WitnessTarget:
    return WitnessTarget(witness.url, parse_cosigner_vkey(witness.vkey))


def read_case(running: Running, times: int) -> None:
    client = running.client()
    client.login("ib")
    for _ in range(times):
        assert client.page(f"/cases/{CASE_ID}").status_code == 200


def deliveries(running: Running) -> dict[int, WitnessDelivery]:
    with running.portal.sessions() as db:
        return {row.size: row for row in db.scalars(select(WitnessDelivery))}


def witnessed(running: Running, witness: WitnessProcess) -> int:
    with running.portal.sessions() as db:
        return cosigned_size(db, parse_cosigner_vkey(witness.vkey))


def wait_for(condition: Any, seconds: float = 20.0) -> None:
    # Waiting for the background thread, not measuring it.
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the witness pusher never got there"
        time.sleep(0.05)


def test_sealed_checkpoints_are_cosigned_by_the_witness(start_portal: Any, sqlite_url: str,
                                                        witness: WitnessProcess) -> None:
    running = portal_with(start_portal, sqlite_url, witness, audit_checkpoint_every=3)
    read_case(running, 4)
    with running.portal.sessions() as db:
        sealed = [size for size, _ in all_checkpoints(db)]
    assert sealed
    wait_for(lambda: witnessed(running, witness) >= sealed[-1])
    assert witness.cosigned_sizes()[:len(sealed)] == sealed  # each once, in order
    name, key = parse_cosigner_vkey(witness.vkey)
    with running.portal.sessions() as db:
        for row in db.scalars(select(WitnessCosignature)):
            note = dict(all_checkpoints(db))[row.size]
            assert open_cosignature(note.partition("\n\n")[0] + "\n", row.line, name, key)


def test_a_dead_witness_blocks_nothing_and_the_backlog_follows(
        start_portal: Any, sqlite_url: str, witness: WitnessProcess) -> None:
    witness.stop()
    running = portal_with(start_portal, sqlite_url, witness, audit_checkpoint_every=2)
    portal = running.portal
    target = target_of(witness)
    read_case(running, 5)  # reads succeed while nobody listens
    with portal.sessions() as db:
        sealed = [size for size, _ in all_checkpoints(db)]
    assert len(sealed) >= 2
    assert push_pending(portal.sessions, target, portal.clock) == 0
    failed = deliveries(running)[sealed[0]]
    assert failed.delivered_at is None and failed.attempts >= 1
    assert failed.last_error == "ConnectionError"

    dpo = running.client()
    start = dpo.login("fg")
    # The FG's start page says how many wait, in words, and leads to the details.
    assert re.search(r"\d+ controlepunten van het log zijn nog niet medeondertekend",
                     start.text)
    page = dpo.page("/audit")
    assert page.status_code == 200
    assert "Controlepunten nog niet afgeleverd bij de getuige:" in page.text
    assert "ConnectionError" in page.text

    witness.start()  # same port: the witness comes back
    wait_for(lambda: push_pending(portal.sessions, target, portal.clock) >= 0 and
             witnessed(running, witness) >= sealed[-1])
    # Each checkpoint reached the witness exactly once, in order, although the test's
    # own rounds and the portal's pusher thread both tried.
    assert witness.cosigned_sizes()[:len(sealed)] == sealed
    assert len(witness.cosigned_sizes()) == len(set(witness.cosigned_sizes()))
    # The page's own search record may seal a checkpoint not sent yet; the failure is gone.
    assert "ConnectionError" not in dpo.page("/audit").text


def test_a_witness_that_does_not_know_the_log_is_a_failure(
        start_portal: Any, sqlite_url: str, tmp_path: Path) -> None:
    stranger = WitnessProcess(tmp_path, [verifier_key(
        ORIGIN, Ed25519PrivateKey.generate().public_key())]).start()
    try:
        running: Running = start_portal(sqlite_url, audit_signing_key=LOG_PEM,
                                        audit_checkpoint_every=2)
        read_case(running, 3)
        portal = running.portal
        assert push_pending(portal.sessions, target_of(stranger), portal.clock) == 0
        assert {row.last_error for row in deliveries(running).values()} == {"HTTP 403"}
    finally:
        stranger.stop()


def test_flipped_delivery_flags_deliver_nothing(database_url: str, start_portal: Any,
                                                witness: WitnessProcess) -> None:
    """The database owner marks every checkpoint delivered and forges cosignature rows:
    the backlog still shows them and the pusher still sends them to the witness."""
    running: Running = start_portal(database_url, audit_signing_key=LOG_PEM,
                                    audit_checkpoint_every=2, audit_witness_vkey=witness.vkey)
    read_case(running, 4)
    portal = running.portal
    with portal.sessions() as db:
        sealed = [size for size, _ in all_checkpoints(db)]
    forger = Ed25519PrivateKey.generate()
    name, _ = parse_cosigner_vkey(witness.vkey)
    with portal.sessions() as db:
        notes = all_checkpoints(db)
    with portal.engine.begin() as conn:
        for size, note in notes:
            line = cosign(note.partition("\n\n")[0] + "\n", forger, name, 1)
            conn.execute(text("INSERT INTO audit_witness_cosignature (size, witness, line, "
                              "received_at) VALUES (:s, :w, :l, CURRENT_TIMESTAMP)"),
                         {"s": size, "w": name, "l": line})
            conn.execute(text("INSERT INTO audit_witness_delivery (size, attempts, "
                              "delivered_at) VALUES (:s, 1, CURRENT_TIMESTAMP)"), {"s": size})
    with portal.sessions() as db:
        shown = status(db, witness.url, witness.vkey)
    assert shown is not None and shown.backlog == len(sealed)
    assert push_pending(portal.sessions, target_of(witness), portal.clock) == len(sealed)
    assert witness.cosigned_sizes() == sealed
    with portal.sessions() as db:
        shown = status(db, witness.url, witness.vkey)
        assert shown is not None and shown.backlog == 0
        assert status(db, witness.url) == shown  # the key the portal was configured with


def test_another_process_holding_the_lease_means_no_second_delivery(
        start_portal: Any, sqlite_url: str, witness: WitnessProcess) -> None:
    running: Running = start_portal(sqlite_url, audit_signing_key=LOG_PEM,
                                    audit_checkpoint_every=2)
    read_case(running, 3)
    portal = running.portal
    with portal.engine.begin() as conn:
        conn.execute(text("UPDATE audit_witness_lease SET holder = 'other-host:1', "
                          "expires_at = :t"), {"t": "2999-01-01 00:00:00.000000"})
    assert push_pending(portal.sessions, target_of(witness), portal.clock) == 0
    assert witness.cosigned_sizes() == []
    with portal.engine.begin() as conn:  # the lease ran out (the other process died)
        conn.execute(text("UPDATE audit_witness_lease SET expires_at = :t"),
                     {"t": "2000-01-01 00:00:00.000000"})
    assert push_pending(portal.sessions, target_of(witness), portal.clock) >= 1


def test_witness_settings(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("witness-token-1\n")
    vkey = WitnessProcess(tmp_path, []).vkey
    settings = load_settings({"PORTAL_AUDIT_CHECKPOINT_URL": "https://witness.example",
                              "PORTAL_AUDIT_WITNESS_VKEY": vkey,
                              "PORTAL_AUDIT_CHECKPOINT_TOKEN_FILE": str(secret)})
    assert settings.audit_checkpoint_url == "https://witness.example"
    assert settings.audit_witness_vkey == vkey
    assert settings.audit_checkpoint_token == "witness-token-1"
    with pytest.raises(SettingsError, match="PORTAL_AUDIT_CHECKPOINT_URL"):
        load_settings({"PORTAL_AUDIT_CHECKPOINT_URL": "ftp://witness.example"})
    with pytest.raises(SettingsError, match="PORTAL_AUDIT_WITNESS_VKEY"):
        load_settings({"PORTAL_AUDIT_CHECKPOINT_URL": "https://witness.example"})
    log_vkey = verifier_key(ORIGIN, LOG_KEY.public_key())  # a log key is not a witness key
    for bad in ("nonsense", log_vkey):
        with pytest.raises(SettingsError, match="PORTAL_AUDIT_WITNESS_VKEY"):
            prepare_signing_key(replace(settings, audit_witness_vkey=bad,
                                        audit_signing_key=LOG_PEM))


def roll_back_to(running: Running, size: int) -> None:
    """The owner cuts the log back to an earlier checkpoint, consistently: records,
    checkpoints, cosignatures and the chain head all agree with each other."""
    engine = running.portal.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("access_record", "audit_checkpoint", "audit_chain_head"):
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            for trigger in ("access_record_no_delete", "audit_checkpoint_no_delete",
                            "audit_chain_head_forward_only"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        last = conn.scalar(text("SELECT record_hash FROM access_record WHERE seq = :n"),
                           {"n": size})
        nodes = conn.scalar(text("SELECT merkle_nodes FROM audit_checkpoint WHERE size = :n"),
                            {"n": size})
        for table, column in (("access_record", "seq"), ("audit_checkpoint", "size"),
                              ("audit_witness_cosignature", "size"),
                              ("audit_witness_delivery", "size")):
            conn.execute(text(f"DELETE FROM {table} WHERE {column} > :n"), {"n": size})  # noqa: S608
        conn.execute(text("UPDATE audit_chain_head SET seq = :n, record_hash = :h, "
                          "merkle_nodes = :m, checkpoint_size = :n"),
                     {"n": size, "h": last, "m": nodes})


def test_verify_and_delivery_hold_the_database_to_what_the_witness_cosigned(
        database_url: str, start_portal: Any, witness: WitnessProcess,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    running = portal_with(start_portal, database_url, witness, audit_checkpoint_every=2)
    portal = running.portal
    read_case(running, 5)
    with portal.sessions() as db:
        sealed = [size for size, _ in all_checkpoints(db)]
    wait_for(lambda: push_pending(portal.sessions, target_of(witness), portal.clock) >= 0
             and witnessed(running, witness) >= sealed[-1])
    for name, value in {"PORTAL_DATABASE_URL": database_url,
                        "PORTAL_DATA_DIR": str(portal.settings.data_dir),
                        "PORTAL_AUDIT_SIGNING_KEY": LOG_PEM,
                        "PORTAL_AUDIT_CHECKPOINT_URL": witness.url,
                        "PORTAL_AUDIT_WITNESS_VKEY": witness.vkey}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PORTAL_AUDIT_CHECKPOINT_DIR", raising=False)
    from portal.cli import main

    assert main(["audit", "verify", "--quiet"]) == 0
    assert "cannot be proven" not in capsys.readouterr().out

    roll_back_to(running, sealed[0])
    assert main(["audit", "verify", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"TRUNCATED at record {sealed[0] + 1}:"), out
    assert "witness" in out
    assert main(["audit", "verify", "--quiet", "--no-witness"]) == 0
    assert "cannot be proven" in capsys.readouterr().out

    # The portal goes on appending, but will not sign the shorter history: it remembers
    # what the witness cosigned, which no row in the database can take away.
    health.reset()
    read_case(running, 3)
    with portal.sessions() as db:
        assert max(size for size, _ in all_checkpoints(db)) == sealed[0]
    assert any("refusing to sign" in message for message in health.active())
    with portal.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM mail_outbox "
                                "WHERE kind = 'audit.integrity'")) >= 1
    health.reset()


def test_a_second_history_for_a_cosigned_size_is_refused_by_the_witness(
        database_url: str, start_portal: Any, witness: WitnessProcess,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Someone with the signing key shows verifiers two checkpoints for one size: the
    witness cosigns only the first, refuses the second (409) and the alarm goes off;
    a verifier holding both sees two histories."""
    from portal.audit.checkpoint import sign_checkpoint

    running = portal_with(start_portal, database_url, witness, audit_checkpoint_every=2)
    portal = running.portal
    read_case(running, 3)
    with portal.sessions() as db:
        sealed = [size for size, _ in all_checkpoints(db)]
    wait_for(lambda: push_pending(portal.sessions, target_of(witness), portal.clock) >= 0
             and witnessed(running, witness) >= sealed[-1])
    newest = sealed[-1]
    fork = sign_checkpoint(ORIGIN, newest, b"\x07" * 32, LOG_KEY, ORIGIN)
    with portal.engine.begin() as conn:
        if portal.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_checkpoint DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_checkpoint_no_update"))
        conn.execute(text("UPDATE audit_checkpoint SET note = :n, root = :r WHERE size = :s"),
                     {"n": fork, "r": b"\x07" * 32, "s": newest})
        conn.execute(text("DELETE FROM audit_witness_cosignature WHERE size = :s"),
                     {"s": newest})
    health.reset()
    before = list(witness.cosigned_sizes())
    push_pending(portal.sessions, target_of(witness), portal.clock)
    assert witness.cosigned_sizes() == before  # the fork was not cosigned
    assert deliveries(running)[newest].last_error == "HTTP 409"
    assert any("witness" in message for message in health.active())
    assert list((witness.data_dir / "evidence").iterdir())

    for name, value in {"PORTAL_DATABASE_URL": database_url,
                        "PORTAL_DATA_DIR": str(portal.settings.data_dir),
                        "PORTAL_AUDIT_SIGNING_KEY": LOG_PEM,
                        "PORTAL_AUDIT_CHECKPOINT_URL": witness.url,
                        "PORTAL_AUDIT_WITNESS_VKEY": witness.vkey}.items():
        monkeypatch.setenv(name, value)
    from portal.cli import main

    assert main(["audit", "verify", "--quiet"]) == 1
    assert "two different histories" in capsys.readouterr().out
    health.reset()


def test_verify_cannot_run_without_reaching_the_configured_witness(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    gone = WitnessProcess(tmp_path, [verifier_key(ORIGIN, LOG_KEY.public_key())]).start()
    gone.stop()
    for name, value in {"PORTAL_DATABASE_URL": sqlite_url, "PORTAL_DATA_DIR": str(tmp_path),
                        "PORTAL_AUDIT_SIGNING_KEY": LOG_PEM,
                        "PORTAL_AUDIT_CHECKPOINT_URL": gone.url,
                        "PORTAL_AUDIT_WITNESS_VKEY": gone.vkey}.items():
        monkeypatch.setenv(name, value)
    from portal.cli import main

    assert main(["audit", "verify", "--quiet"]) == 2
    assert "cannot check against the witness" in capsys.readouterr().err
    assert main(["audit", "verify", "--quiet", "--no-witness"]) == 0
    assert "cannot be proven" in capsys.readouterr().out


def test_the_dpo_sees_the_integrity_alarm(start_portal: Any, sqlite_url: str,
                                          tmp_path: Path) -> None:
    running: Running = start_portal(sqlite_url, audit_signing_key=LOG_PEM,
                                    audit_checkpoint_every=2,
                                    audit_checkpoint_dir=tmp_path / "checkpoints")
    read_case(running, 4)
    with running.portal.sessions() as db:
        sealed = [size for size, _ in all_checkpoints(db)]
    dpo = running.client()
    dpo.login("fg")
    assert "integriteitscontrole" not in dpo.page("/audit").text
    health.reset()
    roll_back_to(running, sealed[0])
    read_case(running, 2)  # sealing is refused: the files know more records
    page = dpo.page("/audit")
    assert "niet door de integriteitscontrole gekomen" in page.text
    assert "refusing to sign" in page.text and "were deleted" in page.text
    with running.portal.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM mail_outbox "
                                "WHERE kind = 'audit.integrity'")) == 1
    health.reset()


def test_an_answer_without_the_witnesss_cosignature_is_not_delivery(
        start_portal: Any, sqlite_url: str, witness: WitnessProcess) -> None:
    """Something at the witness's address answers 200 with a cosignature from another
    key (or none): the checkpoint stays in the backlog."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    impostor_key = Ed25519PrivateKey.generate()
    name, _ = parse_cosigner_vkey(witness.vkey)

    class Impostor(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            note = body.partition("\n\n")[2]
            line = cosign(note.partition("\n\n")[0] + "\n", impostor_key, name, 1)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(line.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Impostor)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        running: Running = start_portal(sqlite_url, audit_signing_key=LOG_PEM,
                                        audit_checkpoint_every=2)
        read_case(running, 3)
        portal = running.portal
        impostor = WitnessTarget(f"http://127.0.0.1:{server.server_address[1]}",
                                 parse_cosigner_vkey(witness.vkey))
        assert push_pending(portal.sessions, impostor, portal.clock) == 0
        failures = {row.last_error for row in deliveries(running).values()}
        assert len(failures) == 1 and next(iter(failures)).startswith("bad cosignature")
        with portal.sessions() as db:
            shown = status(db, impostor.url, witness.vkey)
            assert shown is not None and shown.backlog >= 1
            assert db.scalar(select(WitnessCosignature.size)) is None
    finally:
        server.shutdown()
        server.server_close()
