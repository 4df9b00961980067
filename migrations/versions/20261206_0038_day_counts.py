"""day counts: the access log's accesses per Dutch day, kept with the chain

The supervisor's day chart counted every record of the last 30 days on each
visit of ``/audit`` (684 ms with 200,000 records). The chain head now carries
the counts of its newest day (written with the head, no statement of its own)
and ``audit_day_count`` one row per earlier day, so the chart reads a row per
day. Existing records are counted here, per Dutch day (Europe/Amsterdam, the
day boundaries of summer and winter time included).

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-06
"""

from collections.abc import Sequence
from datetime import UTC, date
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DUTCH = ZoneInfo("Europe/Amsterdam")


def upgrade() -> None:
    with op.batch_alter_table("audit_chain_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("count_day", sa.Date(), nullable=True))
        for name in ("count_allowed", "count_break_glass", "count_denied"):
            batch_op.add_column(sa.Column(name, sa.BigInteger(), server_default="0",
                                          nullable=False))
    days = op.create_table(
        "audit_day_count",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("allowed", sa.BigInteger(), nullable=False),
        sa.Column("break_glass", sa.BigInteger(), nullable=False),
        sa.Column("denied", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_audit_day_count")),
    )
    records = sa.table("access_record",
                       sa.column("occurred_at", portal.db.UTCDateTime(timezone=True)),
                       sa.column("outcome", sa.String()),
                       sa.column("emergency_procedure", sa.Boolean()))
    counts: dict[date, list[int]] = {}
    rows = op.get_bind().execute(
        sa.select(records.c.occurred_at, records.c.outcome, records.c.emergency_procedure)
        .execution_options(yield_per=20_000))
    for at, outcome, break_glass in rows:
        day = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(DUTCH).date()
        kind = 2 if outcome != "allowed" else 1 if break_glass else 0
        counts.setdefault(day, [0, 0, 0])[kind] += 1
    if counts:
        op.bulk_insert(days, [{"day": day, "allowed": a, "break_glass": b, "denied": d}
                              for day, (a, b, d) in sorted(counts.items())])


def downgrade() -> None:
    op.drop_table("audit_day_count")
    with op.batch_alter_table("audit_chain_head", schema=None) as batch_op:
        for name in ("count_denied", "count_break_glass", "count_allowed", "count_day"):
            batch_op.drop_column(name)
