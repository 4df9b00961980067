"""scale: the index the FG's organisation filter and scope need on a large log

The FG's organisation filter, and the scope of every FG who is not the
supervisor (records made by people of their organisations, ``portal.dpo.scope``),
select on ``user_organisation_id``; without an index PostgreSQL read the whole
log for the count and the day chart (EXPLAIN on 100,000 records: a Seq Scan,
76 ms, against a Bitmap Index Scan, 11 ms). ``(user_organisation_id, seq)`` also
gives the page its newest-first order.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_access_record_organisation_seq", "access_record",
                    ["user_organisation_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_access_record_organisation_seq", table_name="access_record")
