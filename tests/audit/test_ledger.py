"""Appending to the chain in the database, sealing checkpoints, and what a record holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from portal.audit import chain_head, ledger
from portal.audit.chain import GENESIS, canonical_encoding, chain_hash, leaf_hash
from portal.audit.checkpoint import open_checkpoint
from portal.audit.checkpoint_files import checkpoint_file_name
from portal.audit.encoding import SEALED_COLUMNS, column_changes, row_changes, sealed_fields
from portal.audit.merkle import tree_head
from portal.audit.models import AccessRecord, AuditChainHead, AuditCheckpoint
from portal.audit.service import Requester, read_basis, record
from portal.db import make_engine, session_factory, unit_of_work
from portal.policy import Allow, Deny

ORIGIN = "test.example/access-log"
KEY = Ed25519PrivateKey.generate()
WHO = Requester(user_id="11111111-1111-4111-8111-111111111111", user_name="Ilse Bakker",
                user_role="care_coordinator", organisation_id=None, session_ref="abcd",
                client_address="127.0.0.1")
NOW = datetime(2026, 3, 2, 8, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def factory(engine: Engine, tmp_path: Path | None = None, every: int = 1000,
            interval: timedelta = timedelta(hours=1)) -> sessionmaker[Session]:
    made = session_factory(engine)
    ledger.configure(made, ledger.AuditConfig(origin=ORIGIN, key_name=ORIGIN, signing_key=KEY,
                                              every=every, interval=interval,
                                              export_dir=tmp_path))
    return made


def append_views(made: sessionmaker[Session], count: int, now: datetime = NOW) -> None:
    for index in range(count):
        with unit_of_work(made) as db:
            record(db, WHO, now + timedelta(seconds=index), event_type="case.view",
                   action="read", decision=Allow(basis="participant:chair;basis:consent"),
                   case_id="22222222-2222-4222-8222-222222222222")


def fail_after_recording(made: sessionmaker[Session]) -> None:
    with unit_of_work(made) as db:
        record(db, WHO, NOW, event_type="case.view", action="read", outcome="allowed")
        raise RuntimeError("the page failed after its record was written")


def stored(engine: Engine) -> list[AccessRecord]:
    with Session(engine) as db:
        return list(db.scalars(select(AccessRecord).order_by(AccessRecord.seq)))


def test_records_form_a_contiguous_chain_from_one(engine: Engine) -> None:
    made = factory(engine)
    append_views(made, 3)
    with unit_of_work(made) as db:  # several records in one transaction
        for _ in range(2):
            record(db, WHO, NOW, event_type="case.list", action="read", outcome="allowed")
    records = stored(engine)
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    prev = GENESIS
    for entry in records:
        assert entry.prev_hash == prev
        assert entry.encoding == canonical_encoding(sealed_fields(
            {c.key: getattr(entry, c.key) for c in AccessRecord.__table__.columns}))
        assert entry.record_hash == chain_hash(prev, entry.encoding)
        assert column_changes({c.key: getattr(entry, c.key)
                               for c in AccessRecord.__table__.columns}, entry.encoding) == []
        prev = entry.record_hash
    with Session(engine) as db:
        head = db.get_one(AuditChainHead, chain_head.HEAD_ID)
        assert (head.seq, head.record_hash) == (5, prev)
        leaves = [leaf_hash(r.encoding) for r in records]
        assert chain_head._unpack(head.seq, head.merkle_nodes).root() == tree_head(leaves)


def test_a_rolled_back_request_leaves_no_gap(engine: Engine) -> None:
    made = factory(engine)
    append_views(made, 1)
    with pytest.raises(RuntimeError):
        fail_after_recording(made)
    append_views(made, 1)
    assert [r.seq for r in stored(engine)] == [1, 2]


def test_the_record_seals_every_nen_7513_field_and_the_time_to_the_millisecond(
        engine: Engine) -> None:
    made = factory(engine)
    with unit_of_work(made) as db:
        record(db, WHO, NOW, event_type="item.read", action="read",
               decision=Allow(basis="consent:33333333-3333-4333-8333-333333333333"),
               case_id="22222222-2222-4222-8222-222222222222",
               child_id="44444444-4444-4444-8444-444444444444", object_type="minutes",
               object_id="55555555-5555-4555-8555-555555555555",
               document_id="55555555-5555-4555-8555-555555555555", document_version=3,
               data_categories=["health", "behaviour"])
    entry = stored(engine)[0]
    sealed = sealed_fields({c.key: getattr(entry, c.key) for c in AccessRecord.__table__.columns})
    assert entry.occurred_at == NOW.replace(microsecond=123000)
    assert sealed["occurred_at"] == "2026-03-02T08:00:00.123Z"
    assert sealed["seq"] == 1 and sealed["id"] == entry.id
    assert sealed["data_categories"] == ["behaviour", "health"]
    assert sealed["consent_id"] == "33333333-3333-4333-8333-333333333333"
    assert (sealed["authorised"], sealed["relation_to_case"], sealed["consent_present"],
            sealed["emergency_procedure"]) == (True, False, True, False)
    assert sealed["purpose_of_use"] == "care_coordination"
    assert sealed["sensitivity"] == "R" and sealed["source"] == "mdo-portal"
    assert sealed["document_version"] == 3


def test_reading_the_basis() -> None:
    glass = read_basis("break_glass:66666666-6666-4666-8666-666666666666")
    assert glass.break_glass_id == "66666666-6666-4666-8666-666666666666"
    ground = read_basis("ground:ots;duty:inform")
    assert (ground.legal_ground, ground.consent) == ("ots", False)
    case = read_basis("participant:chair;basis:consent")
    assert case.related and case.consent and case.legal_ground is None
    assert read_basis("participant:chair;basis:ots").legal_ground == "ots"
    assert read_basis("consent:a,b,+3").consent_id == "a"
    assert read_basis(None) == read_basis("")


def test_a_break_glass_access_is_flagged(engine: Engine) -> None:
    made = factory(engine)
    with unit_of_work(made) as db:
        record(db, WHO, NOW, event_type="item.read", action="read",
               decision=Allow(basis="break_glass:66666666-6666-4666-8666-666666666666"),
               break_glass_reason="Zorgen over veiligheid thuis")
        record(db, WHO, NOW, event_type="case.view", action="read",
               decision=Deny(reason="not_a_participant", hide=True),
               case_id="22222222-2222-4222-8222-222222222222")
    glass, denied = stored(engine)
    assert glass.emergency_procedure and glass.purpose_of_use == "emergency"
    assert glass.break_glass_id == "66666666-6666-4666-8666-666666666666"
    assert glass.break_glass_reason == "Zorgen over veiligheid thuis"
    assert not denied.authorised and not denied.relation_to_case
    assert denied.outcome == "denied" and denied.reason == "not_a_participant"


def test_checkpoints_are_sealed_every_n_records_and_exported_after_commit(
        engine: Engine, tmp_path: Path) -> None:
    made = factory(engine, tmp_path / "exported", every=3)
    append_views(made, 7)
    leaves = [leaf_hash(r.encoding) for r in stored(engine)]
    with Session(engine) as db:
        checkpoints = db.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.size)).all()
        assert [c.size for c in checkpoints] == [1, 4, 7]  # the first seals at once
        for checkpoint in checkpoints:
            opened = open_checkpoint(checkpoint.note, KEY.public_key(), ORIGIN, origin=ORIGIN)
            assert opened.root == tree_head(leaves[:checkpoint.size]) == checkpoint.root
    files = sorted(p.name for p in (tmp_path / "exported").iterdir())
    assert files == [checkpoint_file_name(n) for n in (1, 4, 7)]


def test_a_checkpoint_of_a_rolled_back_transaction_never_leaves_the_database(
        engine: Engine, tmp_path: Path) -> None:
    made = factory(engine, tmp_path / "exported", every=1)
    with pytest.raises(RuntimeError):
        fail_after_recording(made)
    assert not (tmp_path / "exported").exists()
    with Session(engine) as db:
        assert db.scalars(select(AuditCheckpoint)).all() == []


def test_checkpoints_are_also_sealed_after_the_interval(engine: Engine) -> None:
    made = factory(engine, every=1000, interval=timedelta(minutes=5))
    append_views(made, 3)  # the first record seals; the next two are within 5 minutes
    append_views(made, 1, now=NOW + timedelta(minutes=6))
    with Session(engine) as db:
        assert db.scalars(select(AuditCheckpoint.size).order_by(AuditCheckpoint.size)).all() \
            == [1, 4]


def test_seal_covers_the_tail_and_is_idempotent(engine: Engine) -> None:
    made = factory(engine, every=1000)
    append_views(made, 2)
    config = made.kw["info"][ledger.CONFIG_KEY]
    with unit_of_work(made) as db:
        sealed = ledger.seal(db, config, NOW + timedelta(seconds=10))
        assert sealed is not None and sealed.size == 2
    with unit_of_work(made) as db:
        assert ledger.seal(db, config, NOW + timedelta(seconds=20)) is None


def test_records_without_the_portal_configuration_are_still_chained(engine: Engine) -> None:
    with unit_of_work(session_factory(engine)) as db:
        record(db, WHO, NOW, event_type="auth.login", action="execute", outcome="failed",
               reason="state_mismatch")
    entry = stored(engine)[0]
    assert entry.seq == 1 and entry.purpose_of_use == "authentication"
    with Session(engine) as db:
        assert db.scalars(select(AuditCheckpoint)).all() == []


def test_a_grant_that_is_only_the_object_is_not_an_emergency_access(engine: Engine) -> None:
    made = factory(engine)
    with unit_of_work(made) as db:  # the DPO reads the grant to review it
        record(db, WHO, NOW, event_type="break_glass.review", action="read",
               decision=Allow(basis="role:dpo"),
               break_glass_id="66666666-6666-4666-8666-666666666666")
        record(db, WHO, NOW, event_type="break_glass.open", action="execute",
               decision=Allow(basis="participant:participant;basis:consent"),
               break_glass_id="66666666-6666-4666-8666-666666666666")
    review, opened = stored(engine)
    assert review.break_glass_id and not review.emergency_procedure
    assert review.purpose_of_use == "care_coordination"
    assert opened.emergency_procedure and opened.purpose_of_use == "emergency"


def test_the_column_check_sees_values_types_and_extra_fields() -> None:
    values: dict[str, object] = dict.fromkeys(SEALED_COLUMNS)
    values.update(id="a", seq=1, occurred_at=NOW, action_code="R", event_type="case.view",
                  outcome="allowed", authorised=True, relation_to_case=False,
                  consent_present=False, emergency_procedure=False, source="mdo-portal",
                  data_categories="behaviour,health", document_version=1)
    encoding = canonical_encoding(sealed_fields(values))
    row = [values[name] for name in SEALED_COLUMNS]
    assert row_changes(row, encoding) == [] == list(column_changes(values, encoding))
    changed = dict(values, user_name="x", authorised=False, data_categories="health")
    assert row_changes([changed[n] for n in SEALED_COLUMNS], encoding) == [
        "authorised", "user_name", "data_categories"]
    as_flag = dict(values, document_version=True)  # JSON 1 is not true
    assert row_changes([as_flag[n] for n in SEALED_COLUMNS], encoding) == ["document_version"]
    extra = encoding[:-1] + b',"zz":1}'
    assert row_changes(row, extra) == ["zz"]
    assert row_changes(row, b"not json") == ["encoding"]


def test_a_rolled_back_savepoint_gives_its_numbers_back(engine: Engine) -> None:
    made = factory(engine)
    append_views(made, 1)
    with unit_of_work(made) as db:
        record(db, WHO, NOW, event_type="case.view", action="read", outcome="allowed")
        savepoint = db.begin_nested()
        record(db, WHO, NOW, event_type="case.view", action="read", outcome="allowed")
        savepoint.rollback()
        record(db, WHO, NOW, event_type="case.list", action="read", outcome="allowed")
    with unit_of_work(made) as db:
        savepoint = db.begin_nested()
        record(db, WHO, NOW, event_type="case.view", action="read", outcome="denied")
        savepoint.rollback()
        record(db, WHO, NOW, event_type="case.close", action="update", outcome="allowed")
    with made() as db:
        rows = db.execute(select(AccessRecord.seq, AccessRecord.event_type, AccessRecord.prev_hash,
                                 AccessRecord.record_hash).order_by(AccessRecord.seq)).all()
    assert [(r.seq, r.event_type) for r in rows] == [
        (1, "case.view"), (2, "case.view"), (3, "case.list"), (4, "case.close")]
    for before, after in pairwise(rows):
        assert after.prev_hash == before.record_hash


def test_a_transaction_reads_the_records_it_made_itself(engine: Engine) -> None:
    made = factory(engine)
    append_views(made, 1)
    with unit_of_work(made) as db:
        first = record(db, WHO, NOW, event_type="case.view", action="read", outcome="allowed")
        assert first.seq is None, "chained when the transaction commits or reads the log"
        assert db.scalar(select(func.count()).select_from(AccessRecord)) == 2
        assert first.seq == 2
        record(db, WHO, NOW, event_type="case.list", action="read", outcome="allowed")
        assert db.scalar(text("SELECT max(seq) FROM access_record")) == 3
        record(db, WHO, NOW, event_type="case.list", action="read", outcome="denied")
        assert ledger.day_counts(db, NOW.date(), NOW.date()) == {NOW.date(): (3, 0, 1)}
    assert [r.seq for r in stored(engine)] == [1, 2, 3, 4]


def test_records_made_before_a_savepoint_outlive_its_rollback(engine: Engine) -> None:
    made = factory(engine)
    with unit_of_work(made) as db:
        record(db, WHO, NOW, event_type="case.view", action="read", outcome="allowed")
        savepoint = db.begin_nested()
        # Reading the log inside the savepoint writes the record made before it...
        assert db.scalar(select(func.count()).select_from(AccessRecord)) == 1
        record(db, WHO, NOW, event_type="case.edit", action="update", outcome="allowed")
        # ...and its rollback takes that write back too: the record is pending again.
        savepoint.rollback()
        record(db, WHO, NOW, event_type="case.list", action="read", outcome="allowed")
    rows = stored(engine)
    assert [(r.seq, r.event_type) for r in rows] == [(1, "case.view"), (2, "case.list")]
    assert rows[1].prev_hash == rows[0].record_hash


def test_the_head_is_locked_at_commit_not_while_the_page_is_made(postgres_url: str) -> None:
    """PostgreSQL: a request that has made its record and is still decrypting and
    rendering does not hold other workers' appends up (SQLite serialises whole
    write transactions anyway, so there is no row lock to show there)."""
    engine = make_engine(postgres_url)
    made = factory(engine)
    with unit_of_work(made) as slow:
        slow.execute(select(AuditChainHead.id)).all()  # its transaction is open
        mine = record(slow, WHO, NOW, event_type="case.view", action="read",
                      outcome="allowed")
        with unit_of_work(made) as quick:
            quick.execute(text("SET LOCAL lock_timeout = '2s'"))
            record(quick, WHO, NOW, event_type="case.list", action="read", outcome="allowed")
    assert mine.seq == 2
    assert [(r.seq, r.event_type) for r in stored(engine)] == [(1, "case.list"),
                                                               (2, "case.view")]
    engine.dispose()
