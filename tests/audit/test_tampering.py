"""Tampering with the stored log, as a database administrator could, and `portal audit verify`.

Each test writes a real log (12 records, checkpoints after records 1, 5 and 9),
changes the database behind the portal's back (the append-only triggers
switched off first, as the owner can), and runs the CLI: it must exit 1 and
name what happened and where.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from portal.audit import cli, keys, ledger
from portal.audit.chain import chain_hash
from portal.audit.replay import CheckpointSource
from portal.audit.service import Requester, record
from portal.cli import main
from portal.db import make_engine, session_factory, unit_of_work
from portal.policy import Allow, Deny
from portal.settings import Settings

WHO = Requester(user_id="11111111-1111-4111-8111-111111111111", user_name="Ilse Bakker",
                user_role="care_coordinator", organisation_id=None, session_ref="abcd",
                client_address="127.0.0.1")
CASE = "22222222-2222-4222-8222-222222222222"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
RECORDS = 12


@pytest.fixture
def log(database_url: str, keys_dir: Path, monkeypatch: pytest.MonkeyPatch
        ) -> Iterator[Engine]:
    """A log written with the dev signing key the CLI finds in PORTAL_DATA_DIR."""
    monkeypatch.setenv("PORTAL_DATABASE_URL", database_url)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(keys_dir))
    monkeypatch.delenv("PORTAL_AUDIT_CHECKPOINT_DIR", raising=False)
    settings = keys.with_dev_signing_key(Settings(mode="dev", data_dir=keys_dir,
                                                  audit_checkpoint_every=4))
    engine = make_engine(database_url)
    made = session_factory(engine)
    ledger.configure(made, keys.audit_config(settings))
    for seq in range(1, RECORDS + 1):
        with unit_of_work(made) as db:
            decision = Allow(basis="participant:chair;basis:consent") if seq % 3 else \
                Deny(reason="not_a_participant", hide=True)
            record(db, WHO, START + timedelta(seconds=seq), event_type="case.view",
                   action="read", decision=decision, case_id=CASE)
    yield engine
    engine.dispose()


def as_dba(engine: Engine, *statements: str, params: dict[str, object] | None = None) -> None:
    """Run ``statements`` with the log's triggers out of the way."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("access_record", "audit_checkpoint"):
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            for trigger in ("access_record_no_update", "access_record_no_delete",
                            "audit_checkpoint_no_update", "audit_checkpoint_no_delete"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        for statement in statements:
            conn.execute(text(statement), params or {})


def verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["audit", "verify", "--quiet", *args])
    return code, capsys.readouterr().out


def row(engine: Engine, seq: int) -> dict[str, object]:
    with engine.connect() as conn:
        found = conn.execute(text("SELECT * FROM access_record WHERE seq = :s"), {"s": seq})
        return dict(found.mappings().one())


def test_an_untouched_log_verifies(log: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = verify(capsys)
    assert code == 0, out
    assert f"intact: {RECORDS} records, 3 signed checkpoints" in out


def test_a_changed_field_is_named(log: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    as_dba(log, "UPDATE access_record SET user_name = 'Iemand anders' WHERE seq = 3")
    code, out = verify(capsys)
    assert code == 1
    assert out.startswith("CHANGED at record 3:") and "user_name" in out


def test_the_fast_mode_checks_the_chain_but_not_the_columns(
        log: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    as_dba(log, "UPDATE access_record SET user_name = 'Iemand anders' WHERE seq = 3")
    assert verify(capsys, "--chain-only")[0] == 0  # only the searchable copy was edited
    as_dba(log, "UPDATE access_record SET encoding = :e WHERE seq = 3",
           params={"e": bytes(row(log, 3)["encoding"]).replace(b"Ilse", b"Else")})
    code, out = verify(capsys, "--chain-only")
    assert code == 1 and out.startswith("CHANGED at record 3:")


def test_a_changed_outcome_is_named(log: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    as_dba(log, "UPDATE access_record SET outcome = 'allowed', reason = NULL WHERE seq = 6")
    code, out = verify(capsys)
    assert code == 1
    assert out.startswith("CHANGED at record 6:") and "outcome, reason" in out


def test_a_rewritten_and_rechained_record_is_caught_by_the_checkpoint(
        log: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    # The attacker rewrites record 7's encoding and columns, and recomputes the chain.
    forged = row(log, 7)
    encoding = bytes(forged["encoding"]).replace(b'"outcome":"allowed"', b'"outcome":"denied"')
    statements = ["UPDATE access_record SET outcome = 'denied', encoding = :e WHERE seq = 7"]
    params: dict[str, object] = {"e": encoding}
    prev = bytes(row(log, 6)["record_hash"])
    for seq in range(7, RECORDS + 1):
        current = encoding if seq == 7 else bytes(row(log, seq)["encoding"])
        digest = chain_hash(prev, current)
        params[f"p{seq}"], params[f"h{seq}"] = prev, digest
        statements.append(f"UPDATE access_record SET prev_hash = :p{seq}, "  # noqa: S608  (seq is an int)
                          f"record_hash = :h{seq} WHERE seq = {seq}")
        prev = digest
    as_dba(log, *statements, params=params)
    code, out = verify(capsys)
    assert code == 1
    assert out.startswith("CHANGED at record 6:") and "signed checkpoint #3" in out
    assert "records 6–9 do not match" in out


def test_a_deleted_record_is_named(log: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    as_dba(log, "DELETE FROM access_record WHERE seq = 7")
    code, out = verify(capsys)
    assert code == 1
    assert out.startswith("DELETED at record 7:")


def test_an_inserted_record_is_named(log: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    # Make room at 7, then insert a self-consistent record that links to record 6.
    model = row(log, 7)
    prev = bytes(row(log, 6)["record_hash"])
    encoding = bytes(model["encoding"]).replace(b'"seq":7', b'"seq":7,"x":1')
    as_dba(log, "UPDATE access_record SET seq = seq + 1000 WHERE seq >= 7",
           "UPDATE access_record SET seq = seq - 999 WHERE seq >= 1007",
           "INSERT INTO access_record (id, seq, occurred_at, action_code, event_type, outcome, "
           "authorised, relation_to_case, consent_present, emergency_procedure, source, "
           "prev_hash, record_hash, encoding) VALUES ('33333333-3333-4333-8333-333333333333', "
           "7, :at, 'R', 'case.view', 'allowed', true, true, true, false, 'mdo-portal', :p, "
           ":h, :e)",
           params={"at": model["occurred_at"], "p": prev, "h": chain_hash(prev, encoding),
                   "e": encoding})
    code, out = verify(capsys)
    assert code == 1
    assert out.startswith("INSERTED at record 7:")


def test_swapped_records_are_named(log: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    as_dba(log, "UPDATE access_record SET seq = -1 WHERE seq = 10",
           "UPDATE access_record SET seq = 10 WHERE seq = 11",
           "UPDATE access_record SET seq = 11 WHERE seq = -1")
    code, out = verify(capsys)
    assert code == 1
    assert out.startswith("REORDERED at record 10:") and "swapped" in out


def test_a_truncated_tail_is_named(log: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    as_dba(log, "DELETE FROM access_record WHERE seq > 6")
    code, out = verify(capsys)
    assert code == 1
    assert out.startswith("TRUNCATED at record 7:") and "covers 9 records" in out


def test_a_changed_checkpoint_is_named(log: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    with log.connect() as conn:
        note = conn.scalar(text("SELECT note FROM audit_checkpoint WHERE size = 5"))
    assert isinstance(note, str)
    as_dba(log, "UPDATE audit_checkpoint SET note = :n WHERE size = 5",
           params={"n": note.replace("\n5\n", "\n4\n", 1)})
    code, out = verify(capsys)
    assert code == 1
    assert out.startswith("BAD_CHECKPOINT at checkpoints: checkpoint #2 is changed or forged")
    assert "the database's checkpoint for 5 records" in out


def test_exported_checkpoints_catch_a_cut_tail_with_its_checkpoints_deleted(
        log: Engine, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["audit", "export-checkpoints", str(tmp_path / "copies")]) == 0
    capsys.readouterr()
    as_dba(log, "DELETE FROM access_record WHERE seq > 4",
           "DELETE FROM audit_checkpoint WHERE size > 4")
    code, out = verify(capsys)
    assert code == 1, "the chain head still counts the deleted records"
    assert out.startswith("TRUNCATED at record 5:") and "chain head" in out
    # The owner rewinds the head too: without copies the database agrees with itself,
    # and the verdict says so plainly.
    with log.connect() as conn:
        record_hash = conn.scalar(text("SELECT record_hash FROM access_record WHERE seq = 4"))
    with log.begin() as conn:
        if log.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_chain_head DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_chain_head_forward_only"))
        conn.execute(text("UPDATE audit_chain_head SET seq = 4, record_hash = :h"),
                     {"h": record_hash})
    code, out = verify(capsys)
    assert code == 0 and "cannot be proven" in out
    code, out = verify(capsys, "--checkpoint-dir", str(tmp_path / "copies"))
    assert code == 1
    assert out.startswith("TRUNCATED at record 5:")


def test_verify_shows_progress_on_stderr(log: Engine, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    assert main(["audit", "verify", "--progress-every", "5"]) == 0
    captured = capsys.readouterr()
    assert "verified 5 of 12 records" in captured.err
    assert "verified 12 of 12 records (100%)" in captured.err
    assert captured.out.count("\n") == 1


def test_verify_with_only_an_unrelated_key_fails(log: Engine,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = keys.vkey_of("mdo-portal.invalid/access-log", Ed25519PrivateKey.generate())
    code, out = verify(capsys, "--only-vkeys", "--vkey", other)
    assert code == 1 and "no valid signature from a trusted key" in out


def test_a_checkpoint_sealed_while_verify_starts_is_not_taken_for_a_deletion(
        log: Engine, capsys: pytest.CaptureFixture[str], tmp_path: Path, keys_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A live portal seals and exports a checkpoint just as verify reads the sources:
    whatever the files show, the database has (files are written after the commit)."""
    copies = tmp_path / "copies"
    assert main(["audit", "export-checkpoints", str(copies)]) == 0
    capsys.readouterr()
    settings = keys.with_dev_signing_key(Settings(mode="dev", data_dir=keys_dir,
                                                  audit_checkpoint_every=4))
    made = session_factory(log)
    ledger.configure(made, keys.audit_config(settings))
    real = cli.file_checkpoints

    def sealed_meanwhile(directory: Path) -> list[CheckpointSource]:
        for seq in range(RECORDS + 1, RECORDS + 5):  # a checkpoint is sealed at 13
            with unit_of_work(made) as db:
                record(db, WHO, START + timedelta(seconds=seq), event_type="case.view",
                       action="read", decision=Allow(basis="participant:chair"), case_id=CASE)
        assert main(["audit", "export-checkpoints", str(copies)]) == 0
        return real(directory)

    monkeypatch.setattr(cli, "file_checkpoints", sealed_meanwhile)
    code, out = verify(capsys, "--checkpoint-dir", str(copies))
    assert code == 0, out  # before: "DELETED at record 10: the file … holds a checkpoint for 13"
    assert out.splitlines()[-1].startswith("the access log is intact: 16 records"), out
