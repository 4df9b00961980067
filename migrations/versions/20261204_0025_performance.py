"""performance: the indexes the FG's log filters need

The person filter reads a person's records newest first through (user_id, seq);
the day chart counts per day, outcome and break-glass from (occurred_at,
outcome, emergency_procedure) without reading the table.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_access_record_user_seq", "access_record", ["user_id", "seq"])
    op.create_index("ix_access_record_day_chart", "access_record",
                    ["occurred_at", "outcome", "emergency_procedure"])


def downgrade() -> None:
    op.drop_index("ix_access_record_day_chart", table_name="access_record")
    op.drop_index("ix_access_record_user_seq", table_name="access_record")
