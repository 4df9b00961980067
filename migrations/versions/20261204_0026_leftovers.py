"""leftovers: the request id in the access record

``access_record.request_id`` is the id the request carries in its log lines
and its ``X-Request-Id`` header. It is sealed into a record's encoding only
when set, so the records written before this revision keep their encoding.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy): the append-only triggers stay on the table.
    op.add_column("access_record", sa.Column("request_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    # Native DROP COLUMN on both engines (SQLite >= 3.35): a batch copy would drop the triggers.
    op.drop_column("access_record", "request_id")

