"""The database owner attacks the access log with SQL straight at the database (triggers
switched off, as an owner can), on SQLite and PostgreSQL; each attack must be caught by
sealing, by ``portal audit verify`` or by the witness.

The log: 12 records, checkpoints after records 1, 5 and 9, every checkpoint also
exported to a checkpoint directory the owner cannot write to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from portal.audit import health, keys, ledger
from portal.audit.chain import GENESIS, chain_hash, leaf_hash
from portal.audit.checkpoint_files import SplitView, checkpoint_file_name, write_checkpoint_file
from portal.audit.merkle import MerkleAccumulator
from portal.audit.service import Requester, record
from portal.cli import main
from portal.db import make_engine, session_factory, unit_of_work
from portal.policy import Allow
from portal.settings import Settings

WHO = Requester(user_id="11111111-1111-4111-8111-111111111111", user_name="Ilse Bakker",
                user_role="care_coordinator", organisation_id=None, session_ref="abcd",
                client_address="127.0.0.1")
CASE = "22222222-2222-4222-8222-222222222222"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
RECORDS = 12


@dataclass
class Log:
    engine: Engine
    settings: Settings
    copies: Path

    def append(self, count: int) -> None:
        made = session_factory(self.engine)
        ledger.configure(made, keys.audit_config(self.settings))
        for _ in range(count):
            with unit_of_work(made) as db:
                record(db, WHO, START + timedelta(hours=1), event_type="case.view",
                       action="read", decision=Allow(basis="participant:chair"), case_id=CASE)


@pytest.fixture
def log(database_url: str, keys_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Log]:
    copies = tmp_path / "checkpoints"
    monkeypatch.setenv("PORTAL_DATABASE_URL", database_url)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(keys_dir))
    monkeypatch.setenv("PORTAL_AUDIT_CHECKPOINT_DIR", str(copies))
    settings = keys.with_dev_signing_key(Settings(mode="dev", data_dir=keys_dir,
                                                  audit_checkpoint_every=4,
                                                  audit_checkpoint_dir=copies))
    engine = make_engine(database_url)
    made = session_factory(engine)
    ledger.configure(made, keys.audit_config(settings))
    for seq in range(1, RECORDS + 1):
        with unit_of_work(made) as db:
            record(db, WHO, START + timedelta(seconds=seq), event_type="case.view",
                   action="read", decision=Allow(basis="participant:chair"), case_id=CASE)
    yield Log(engine, settings, copies)
    engine.dispose()
    health.reset()


def as_owner(engine: Engine, *statements: str, params: dict[str, object] | None = None) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("access_record", "audit_checkpoint", "audit_chain_head"):
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            for trigger in ("access_record_no_update", "access_record_no_delete",
                            "audit_checkpoint_no_update", "audit_checkpoint_no_delete",
                            "audit_chain_head_no_delete", "audit_chain_head_forward_only"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        for statement in statements:
            conn.execute(text(statement), params or {})


def encodings(engine: Engine) -> list[bytes]:
    with engine.connect() as conn:
        return [bytes(e) for e in conn.execute(
            text("SELECT encoding FROM access_record ORDER BY seq")).scalars()]


def rewrite(engine: Engine, forged: list[bytes], keep_checkpoints_below: int) -> None:
    """Replace the whole log with ``forged`` encodings, rechained, with the chain head and
    the database's own checkpoints made to match: all an owner can do without the key."""
    statements = ["DELETE FROM access_record WHERE seq > :n",
                  "DELETE FROM audit_checkpoint WHERE size >= :k"]
    params: dict[str, object] = {"n": len(forged), "k": keep_checkpoints_below}
    prev = GENESIS
    merkle = MerkleAccumulator()
    for seq, encoding in enumerate(forged, start=1):
        digest = chain_hash(prev, encoding)
        params |= {f"e{seq}": encoding, f"p{seq}": prev, f"h{seq}": digest}
        statements.append(f"UPDATE access_record SET encoding = :e{seq}, "  # noqa: S608 (int)
                          f"prev_hash = :p{seq}, record_hash = :h{seq} WHERE seq = {seq}")
        merkle.append(leaf_hash(encoding))
        prev = digest
    params |= {"hs": len(forged), "hh": prev, "hm": b"".join(merkle.hashes),
               "hc": keep_checkpoints_below - 1}
    statements.append("UPDATE audit_chain_head SET seq = :hs, record_hash = :hh, "
                      "merkle_nodes = :hm, checkpoint_size = :hc")
    as_owner(engine, *statements, params=params)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def files(log: Log) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(log.copies.glob("checkpoint-*.txt"))}


def alarm_mails(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text(
            "SELECT count(*) FROM mail_outbox WHERE kind = 'audit.integrity'")) or 0)


def test_the_honest_log_seals_and_verifies(log: Log, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    assert list(files(log)) == [checkpoint_file_name(n) for n in (1, 5, 9)]
    log.append(1)
    assert cli(capsys, "audit", "seal")[0] == 0
    code, out = cli(capsys, "audit", "verify", "--quiet")
    assert code == 0, out
    assert "intact: 13 records" in out and "cannot be proven" not in out


def test_a_rewritten_covered_record_is_not_resealed(
        log: Log, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    before = files(log)
    forged = encodings(log.engine)
    forged[1] = forged[1].replace(b'"outcome":"allowed"', b'"outcome":"denied"')
    rewrite(log.engine, forged, keep_checkpoints_below=2)
    code, out = cli(capsys, "audit", "seal")
    assert code == 1 and "refused" in out and "do not extend" in out
    assert files(log) == before  # nothing overwritten, nothing new signed
    assert alarm_mails(log.engine) == 1
    assert any(r.levelname == "ERROR" and "refusing to sign" in r.getMessage()
               for r in caplog.records)
    with session_factory(log.engine)() as db:
        assert any("refusing to sign" in p for p in health.problems(db, log.settings))
    # Appending goes on (the records are the evidence), without signing the forgery.
    log.append(5)
    with log.engine.connect() as conn:
        assert conn.scalar(text("SELECT max(size) FROM audit_checkpoint")) == 1
    code, out = cli(capsys, "audit", "verify", "--quiet")
    assert code == 1 and "record 2" in out


def test_a_deleted_record_with_the_log_renumbered_is_not_resealed(
        log: Log, capsys: pytest.CaptureFixture[str]) -> None:
    kept = encodings(log.engine)
    del kept[2]  # record 3 goes; the rest move up one
    forged = [e.replace(f'"seq":{n + 1 if n >= 3 else n}'.encode(), f'"seq":{n}'.encode())
              for n, e in enumerate(kept, start=1)]
    rewrite(log.engine, forged, keep_checkpoints_below=2)
    code, out = cli(capsys, "audit", "seal")
    assert code == 1 and "refused" in out
    assert list(files(log)) == [checkpoint_file_name(n) for n in (1, 5, 9)]
    code, out = cli(capsys, "audit", "verify", "--quiet")
    assert code == 1 and out.startswith(("CHANGED", "DELETED"))


def test_a_deleted_tail_is_named_by_its_first_missing_record(
        log: Log, capsys: pytest.CaptureFixture[str]) -> None:
    # Naive: the records go, the chain head still counts them.
    as_owner(log.engine, "DELETE FROM access_record WHERE seq > 10")
    code, out = cli(capsys, "audit", "verify", "--quiet", "--no-witness")
    assert code == 1 and out.startswith("TRUNCATED at record 11:") and "chain head" in out


def test_a_deleted_tail_with_its_checkpoints_and_head_is_caught_outside(
        log: Log, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    rewrite(log.engine, encodings(log.engine)[:6], keep_checkpoints_below=6)
    code, out = cli(capsys, "audit", "seal")
    assert code == 1 and "records 7–9 were deleted" in out
    code, out = cli(capsys, "audit", "verify", "--quiet")
    assert code == 1 and out.startswith("TRUNCATED at record 7:")
    # Without the copies the database is consistent with itself, and the verdict says
    # plainly what it cannot prove.
    monkeypatch.delenv("PORTAL_AUDIT_CHECKPOINT_DIR")
    code, out = cli(capsys, "audit", "verify", "--quiet")
    assert code == 0
    assert "cannot be proven" in out and "record 5" in out


def test_checkpoints_deleted_from_the_database_are_named(
        log: Log, capsys: pytest.CaptureFixture[str]) -> None:
    as_owner(log.engine, "DELETE FROM audit_checkpoint WHERE size > 1")
    code, out = cli(capsys, "audit", "verify", "--quiet")
    assert code == 1 and out.startswith("DELETED at record 2:")
    assert checkpoint_file_name(9) in out


def test_a_replaced_checkpoint_file_stops_sealing(
        log: Log, capsys: pytest.CaptureFixture[str]) -> None:
    newest = log.copies / checkpoint_file_name(9)
    newest.write_text((log.copies / checkpoint_file_name(5)).read_text())
    log.append(1)
    code, out = cli(capsys, "audit", "seal")
    assert code == 1 and "holds a checkpoint for 5 records" in out
    newest.write_text("not a checkpoint\n")
    code, out = cli(capsys, "audit", "seal")
    assert code == 1 and "does not verify" in out


def test_the_portal_never_replaces_a_checkpoint_file(log: Log) -> None:
    existing = log.copies / checkpoint_file_name(5)
    honest = existing.read_text()
    other = (log.copies / checkpoint_file_name(9)).read_text()
    assert write_checkpoint_file(log.copies, 5, honest) == existing  # the same note: fine
    with pytest.raises(SplitView):
        write_checkpoint_file(log.copies, 5, other)
    assert existing.read_text() == honest
    assert not [p for p in log.copies.iterdir() if p.name.endswith(".tmp")]


def test_two_histories_for_one_size_are_a_split_view(
        log: Log, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Someone with the signing key shows one verifier the database and another the
    exported copy, each with a checkpoint for 9 records but different roots."""
    from portal.audit.checkpoint import sign_checkpoint

    config = keys.audit_config(log.settings)
    fork = sign_checkpoint(config.origin, 9, b"\x07" * 32, config.signing_key, config.key_name)
    as_owner(log.engine, "UPDATE audit_checkpoint SET note = :n, root = :r WHERE size = 9",
             params={"n": fork, "r": b"\x07" * 32})
    # The export refuses to overwrite and raises the alarm.
    code, out = cli(capsys, "audit", "export-checkpoints", str(log.copies))
    assert code == 1 and "split view" in out
    assert alarm_mails(log.engine) == 1
    # Verify sees both notes for 9 records.
    code, out = cli(capsys, "audit", "verify", "--quiet")
    assert code == 1 and "two different histories" in out
    with session_factory(log.engine)() as db:
        assert any("split view" in p for p in health.problems(db, log.settings))


def test_an_honest_log_reports_no_problems(log: Log) -> None:
    with session_factory(log.engine)() as db:
        assert health.problems(db, log.settings) == []


def test_proofs_from_the_database_match_the_definition(log: Log) -> None:
    """Consistency proofs built from the stored records (with and without a stored
    compact range at the old size) verify between the RFC 6962 roots of the log."""
    from portal.audit.anchors import consistency_proof
    from portal.audit.merkle import tree_head
    from portal.audit.proof import verify_consistency

    leaves = [leaf_hash(e) for e in encodings(log.engine)]
    with session_factory(log.engine)() as db:
        for old in range(RECORDS + 1):
            for new in range(old, RECORDS + 1):
                proof = consistency_proof(db, old, new)
                assert verify_consistency(old, new, tree_head(leaves[:old]),
                                          tree_head(leaves[:new]), proof), (old, new)


def test_every_checkpoint_deleted_from_the_database(
        log: Log, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    as_owner(log.engine, "DELETE FROM audit_checkpoint")
    code, out = cli(capsys, "audit", "verify", "--quiet")
    assert code == 1 and out.startswith("DELETED at record 1:")
    monkeypatch.delenv("PORTAL_AUDIT_CHECKPOINT_DIR")
    code, out = cli(capsys, "audit", "verify", "--quiet")
    assert code == 0 and "0 signed checkpoints" in out and "cannot be proven" in out


def test_the_tail_after_the_newest_outside_checkpoint_is_named(
        log: Log, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli(capsys, "audit", "verify", "--quiet")
    assert code == 0 and "records 10–12, after the newest checkpoint outside" in out
