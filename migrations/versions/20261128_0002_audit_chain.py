"""audit chain: NEN 7513 fields, the hash chain, checkpoints, append-only protection

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

Records written before this revision are chained here, in (occurred_at, id)
order, with the fields they have (the new ones empty). On PostgreSQL, when
PORTAL_DB_APP_ROLE names the role the portal connects as, that role gets
SELECT/INSERT only on the log tables (and full DML on the others, also on
tables later migrations create); the role running the migration should own the
tables and be a different one.
"""

import os
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db
from portal.audit.chain import GENESIS, canonical_encoding, chain_hash, format_timestamp, leaf_hash
from portal.audit.merkle import MerkleAccumulator

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def new_columns() -> list[sa.Column]:
    """Fresh Column objects each time (a Column belongs to one table)."""
    return [
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("purpose_of_use", sa.String(length=32), nullable=True),
        sa.Column("legal_ground", sa.String(length=64), nullable=True),
        sa.Column("consent_id", sa.String(length=36), nullable=True),
        sa.Column("break_glass_id", sa.String(length=36), nullable=True),
        sa.Column("break_glass_reason", sa.String(length=1000), nullable=True),
        sa.Column("authorised", sa.Boolean(), nullable=True),
        sa.Column("relation_to_case", sa.Boolean(), nullable=True),
        sa.Column("consent_present", sa.Boolean(), nullable=True),
        sa.Column("emergency_procedure", sa.Boolean(), nullable=True),
        sa.Column("on_behalf_of_id", sa.String(length=36), nullable=True),
        sa.Column("document_id", sa.String(length=36), nullable=True),
        sa.Column("document_version", sa.Integer(), nullable=True),
        sa.Column("data_categories", sa.String(length=400), nullable=True),
        sa.Column("sensitivity", sa.String(length=16), nullable=True),
        sa.Column("query", sa.String(length=500), nullable=True),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("record_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("encoding", sa.LargeBinary(), nullable=True),
    ]
NOT_NULL = {"seq": sa.BigInteger(), "authorised": sa.Boolean(),
            "relation_to_case": sa.Boolean(), "consent_present": sa.Boolean(),
            "emergency_procedure": sa.Boolean(), "prev_hash": sa.LargeBinary(length=32),
            "record_hash": sa.LargeBinary(length=32), "encoding": sa.LargeBinary()}

# The sealed fields of format version 1 (portal/audit/encoding.py at this revision).
V1_FIELDS = (
    "id", "seq", "occurred_at", "action_code", "event_type", "outcome", "reason",
    "purpose_of_use", "basis", "legal_ground", "consent_id", "break_glass_id",
    "break_glass_reason", "authorised", "relation_to_case", "consent_present",
    "emergency_procedure", "user_id", "user_name", "user_role", "user_organisation_id",
    "on_behalf_of_id", "session_ref", "client_address", "case_id", "child_id",
    "object_type", "object_id", "document_id", "document_version", "data_categories",
    "sensitivity", "query", "source",
)

APPEND_ONLY = ("access_record", "audit_checkpoint")
PG_FUNCTIONS = """
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' OR NEW.id <> OLD.id OR NEW.seq < OLD.seq
     OR NEW.checkpoint_size < OLD.checkpoint_size THEN
    RAISE EXCEPTION 'the audit chain head only moves forward: % refused', TG_OP
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
"""


def upgrade() -> None:
    with op.batch_alter_table("access_record", schema=None) as batch_op:
        for column in new_columns():
            batch_op.add_column(column)
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("record_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("merkle_nodes", sa.LargeBinary(), nullable=False),
        sa.Column("checkpoint_size", sa.BigInteger(), nullable=False),
        sa.Column("checkpoint_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("sealed_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoint")),
        sa.UniqueConstraint("size", name=op.f("uq_audit_checkpoint_size")),
    )
    _chain_existing_records()
    with op.batch_alter_table("access_record", schema=None) as batch_op:
        for name, type_ in NOT_NULL.items():
            batch_op.alter_column(name, existing_type=type_, nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_access_record_seq"), ["seq"])
        batch_op.create_index(batch_op.f("ix_access_record_break_glass_id"), ["break_glass_id"],
                              unique=False)
    if op.get_bind().dialect.name == "postgresql":
        _protect_postgresql()
    else:
        _protect_sqlite()


def _chain_existing_records() -> None:
    bind = op.get_bind()
    table = sa.table("access_record", *(sa.column(name) for name in (
        "id", "occurred_at", "action_code", "event_type", "outcome", "reason", "basis",
        "user_id", "user_name", "user_role", "user_organisation_id", "session_ref",
        "client_address", "case_id", "child_id", "object_type", "object_id", "source")))
    occurred = sa.column("occurred_at", portal.db.UTCDateTime(timezone=True))
    rows = bind.execute(
        sa.select(table, occurred.label("occurred_utc")).order_by(occurred, table.c.id)
    ).mappings().all()
    prev, merkle = GENESIS, MerkleAccumulator()
    for seq, row in enumerate(rows, start=1):
        parts = (row["basis"] or "").split(";")
        values = {name: row.get(name) for name in V1_FIELDS}
        values.update(
            seq=seq, occurred_at=format_timestamp(row["occurred_utc"]), data_categories=[],
            authorised=row["outcome"] == "allowed",
            relation_to_case=any(p.startswith("participant:") for p in parts),
            consent_present="basis:consent" in parts, emergency_procedure=False)
        encoding = canonical_encoding(values)
        record_hash = chain_hash(prev, encoding)
        bind.execute(sa.text(
            "UPDATE access_record SET seq = :seq, prev_hash = :prev, record_hash = :hash, "
            "encoding = :encoding, authorised = :authorised, relation_to_case = :relation, "
            "consent_present = :consent, emergency_procedure = :emergency WHERE id = :id"
        ), {"seq": seq, "prev": prev, "hash": record_hash, "encoding": encoding,
            "authorised": values["authorised"], "relation": values["relation_to_case"],
            "consent": values["consent_present"], "emergency": False, "id": row["id"]})
        prev = record_hash
        merkle.append(leaf_hash(encoding))
    bind.execute(sa.text(
        "INSERT INTO audit_chain_head (id, seq, record_hash, merkle_nodes, checkpoint_size) "
        "VALUES (1, :seq, :hash, :nodes, 0)"
    ), {"seq": len(rows), "hash": prev, "nodes": b"".join(merkle.hashes)})


def _protect_sqlite() -> None:
    for table in APPEND_ONLY:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END")
    op.execute(
        "CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head "
        "BEGIN SELECT RAISE(ABORT, 'the audit chain head only moves forward'); END")
    op.execute(
        "CREATE TRIGGER audit_chain_head_forward_only BEFORE UPDATE ON audit_chain_head "
        "WHEN NEW.id <> OLD.id OR NEW.seq < OLD.seq OR NEW.checkpoint_size < OLD.checkpoint_size "
        "BEGIN SELECT RAISE(ABORT, 'the audit chain head only moves forward'); END")


def _protect_postgresql() -> None:
    op.execute(PG_FUNCTIONS)
    for table in APPEND_ONLY:
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION audit_append_only()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()")
    op.execute("CREATE TRIGGER audit_chain_head_forward_only BEFORE UPDATE OR DELETE "
               "ON audit_chain_head FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()")
    op.execute("CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head "
               "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()")
    role = os.environ.get("PORTAL_DB_APP_ROLE", "").strip()
    if role:
        _grant_app_role(role)


def _grant_app_role(role: str) -> None:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", role):
        raise ValueError(f"PORTAL_DB_APP_ROLE {role!r} is not a plain role name")
    name = op.get_bind().dialect.identifier_preparer.quote(role)
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}")
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public "
               f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {name}")
    op.execute(f"REVOKE ALL ON alembic_version FROM {name}")
    op.execute(f"GRANT SELECT ON alembic_version TO {name}")
    # The log: read and append, nothing else.
    op.execute(f"REVOKE ALL ON access_record, audit_checkpoint FROM {name}")
    op.execute(f"GRANT SELECT, INSERT ON access_record, audit_checkpoint TO {name}")
    op.execute(f"REVOKE ALL ON audit_chain_head FROM {name}")
    op.execute(f"GRANT SELECT, UPDATE ON audit_chain_head TO {name}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP TRIGGER IF EXISTS audit_chain_head_forward_only ON audit_chain_head")
        op.execute("DROP TRIGGER IF EXISTS audit_chain_head_no_truncate ON audit_chain_head")
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
        op.execute("DROP FUNCTION IF EXISTS audit_head_forward_only()")
    else:
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_chain_head_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_chain_head_forward_only")
    with op.batch_alter_table("access_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_record_break_glass_id"))
        batch_op.drop_constraint(batch_op.f("uq_access_record_seq"), type_="unique")
        for column in reversed(new_columns()):
            batch_op.drop_column(column.name)
    op.drop_table("audit_checkpoint")
    op.drop_table("audit_chain_head")
