"""audit witness: cosignatures as delivery status, one delivering process, compact ranges

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

``audit_checkpoint.merkle_nodes`` keeps the compact range each checkpoint was
sealed over, so a consistency proof from it reads only the records added
since. A plain ADD COLUMN (no table rebuild) keeps the SQLite append-only
triggers of 0002 in place.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_checkpoint", sa.Column("merkle_nodes", sa.LargeBinary(), nullable=True))
    op.create_table(
        "audit_witness_cosignature",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("witness", sa.String(length=200), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("received_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_audit_witness_cosignature")),
    )
    lease = op.create_table(
        "audit_witness_lease",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=True),
        sa.Column("expires_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_witness_lease")),
    )
    op.bulk_insert(lease, [{"id": 1, "holder": None, "expires_at": None}])


def downgrade() -> None:
    op.drop_table("audit_witness_lease")
    op.drop_table("audit_witness_cosignature")
    # Not batch: rebuilding the table would drop its SQLite triggers (SQLite >= 3.35).
    op.execute("ALTER TABLE audit_checkpoint DROP COLUMN merkle_nodes")
