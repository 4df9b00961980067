"""minutes drafts: each draft section's identity and categories in the clear

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no foreign key: SQLite adds it without rebuilding the table. A draft
    # saved before this revision has no facts and is not opened (nothing to decide on).
    with op.batch_alter_table("minutes_draft", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sections", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("minutes_draft", schema=None) as batch_op:
        batch_op.drop_column("sections")
