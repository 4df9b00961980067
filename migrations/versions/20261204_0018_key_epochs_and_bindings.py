"""key epochs and bindings: KEK version states, shredding debts, AD versions (issue 16)

* ``kek_version_state``: one row per key-encryption-key version the portal
  has wrapped under; ``disabled`` stops new wraps before a version is
  destroyed, and every wrap holds the row in shared mode until it commits.
* ``key_shredding``: data keys destroyed while an older KEK version that
  could unwrap a backup copy of them is still alive (cleared by the epoch).
* ``binding`` on the rows whose plaintext columns decide access: 1 = the
  record binding of before (location only), 2 = location + categories +
  sharing flag; a draft's ``counter`` is bound too (no rollback). Existing
  rows stay 1 until ``portal keys rebind`` re-seals them.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BINDING_TABLES = ("document_version", "minutes_section", "minutes_draft", "minutes_correction")


def upgrade() -> None:
    op.create_table(
        "kek_version_state",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("disabled_at", portal.db.UTCDateTime(), nullable=True),
        sa.Column("retired_at", portal.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_kek_version_state")),
    )
    op.create_table(
        "key_shredding",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("erased_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("kek_version", sa.Integer(), nullable=False),
        sa.Column("keys", sa.Integer(), nullable=False),
        sa.Column("cleared_at", portal.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_shredding")),
    )
    op.create_index(op.f("ix_key_shredding_cleared_at"), "key_shredding", ["cleared_at"])
    for table in BINDING_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("binding", sa.Integer(), nullable=False,
                                          server_default="1"))
    with op.batch_alter_table("minutes_draft", schema=None) as batch_op:
        batch_op.add_column(sa.Column("counter", sa.Integer(), nullable=False,
                                      server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("minutes_draft", schema=None) as batch_op:
        batch_op.drop_column("counter")
    for table in reversed(BINDING_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("binding")
    op.drop_index(op.f("ix_key_shredding_cleared_at"), table_name="key_shredding")
    op.drop_table("key_shredding")
    op.drop_table("kek_version_state")
