"""case erasure state and upload follow-ups (issue 3)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain nullable columns without foreign keys: SQLite adds them with ALTER
# TABLE ADD COLUMN, no table rebuild (mdo_case is referenced from everywhere).
CASE_COLUMNS = (
    ("erased_at", lambda: portal.db.UTCDateTime()),
    ("erased_by", lambda: sa.String(length=36)),
    ("erased_by_role", lambda: sa.String(length=200)),
    ("erased_by_organisation_id", lambda: sa.String(length=36)),
    ("erased_summary", lambda: sa.String(length=200)),
)


def upgrade() -> None:
    with op.batch_alter_table("document_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("touched_at", portal.db.UTCDateTime(), nullable=True))
    with op.batch_alter_table("mdo_case", schema=None) as batch_op:
        for name, make_type in CASE_COLUMNS:
            batch_op.add_column(sa.Column(name, make_type(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mdo_case", schema=None) as batch_op:
        for name, _ in reversed(CASE_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table("document_version", schema=None) as batch_op:
        batch_op.drop_column("touched_at")
