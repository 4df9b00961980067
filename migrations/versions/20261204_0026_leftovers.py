"""leftovers: the request id in the access record; the history of ground roles

``access_record.request_id`` is the id the request carries in its log lines
and its ``X-Request-Id`` header. It is sealed into a record's encoding only
when set, so the records written before this revision keep their encoding.

``ground_role_change`` keeps who set which roles of an organisation may invoke
a legal ground (``/admin/ground-roles``), and when.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy): the append-only triggers stay on the table.
    op.add_column("access_record", sa.Column("request_id", sa.String(length=64), nullable=True))
    op.create_table(
        "ground_role_change",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("roles", sa.String(length=400), nullable=False),
        sa.Column("changed_by", sa.String(length=36), nullable=True),
        sa.Column("changed_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_ground_role_change_organisation_id_organisation")),
        sa.ForeignKeyConstraint(["changed_by"], ["person.id"], ondelete="SET NULL",
                                name=op.f("fk_ground_role_change_changed_by_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ground_role_change")),
    )
    op.create_index(op.f("ix_ground_role_change_organisation_id"), "ground_role_change",
                    ["organisation_id"], unique=False)


def downgrade() -> None:
    # A sealed request id cannot be taken out of a record's encoding: revision 0025's
    # verifier would report every such record as changed. Refuse rather than break the log.
    first = op.get_bind().execute(sa.text(
        "SELECT min(seq) FROM access_record WHERE request_id IS NOT NULL")).scalar()
    if first is not None:
        raise RuntimeError(
            f"access records from seq {first} on carry a sealed request id; revision 0025 "
            "cannot verify them, so the access log cannot be downgraded past 0026")
    # Native DROP COLUMN on both engines (SQLite >= 3.35): a batch copy would drop the triggers.
    op.drop_column("access_record", "request_id")
    op.drop_index(op.f("ix_ground_role_change_organisation_id"), table_name="ground_role_change")
    op.drop_table("ground_role_change")

