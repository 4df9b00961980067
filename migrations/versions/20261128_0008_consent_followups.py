"""consent follow-ups: custody evidence, organisation rules, meeting categories (issue 4)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Existing agendas and action items were written without categories: "other",
# the category nobody's consent names by accident.
OTHER = sa.text("'[\"other\"]'")


def upgrade() -> None:
    with op.batch_alter_table("custody_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sole_custody_claimed", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agenda_categories", sa.JSON(), nullable=False,
                                      server_default=OTHER))
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("categories", sa.JSON(), nullable=False,
                                      server_default=OTHER))


def downgrade() -> None:
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.drop_column("categories")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_column("agenda_categories")
    with op.batch_alter_table("custody_record", schema=None) as batch_op:
        batch_op.drop_column("sole_custody_claimed")
