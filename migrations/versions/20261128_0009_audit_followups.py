"""audit follow-ups: checkpoint delivery to a witness URL (issue 5)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Ordinary DML for the app role: 0002's default privileges cover new tables.
    op.create_table(
        "audit_witness_delivery",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delivered_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_audit_witness_delivery")),
    )
    with op.batch_alter_table("audit_witness_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_witness_delivery_delivered_at"),
                              ["delivered_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_witness_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_witness_delivery_delivered_at"))
    op.drop_table("audit_witness_delivery")
