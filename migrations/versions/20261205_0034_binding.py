"""binding: meeting agendas and action items bind what decides who reads them (issue 16)

``binding`` on ``meeting`` and ``action_item``: 1 = the record binding of
before (location only), 2 = location + the agenda's categories (a meeting)
or the categories and owner (an action item). Existing rows stay 1 until
``portal keys rebind`` re-seals them.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BINDING_TABLES = ("meeting", "action_item")


def upgrade() -> None:
    for table in BINDING_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("binding", sa.Integer(), nullable=False,
                                          server_default="1"))


def downgrade() -> None:
    for table in reversed(BINDING_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("binding")
