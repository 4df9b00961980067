"""meetings, invitees and action items

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meeting",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("starts_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("place_ct", sa.LargeBinary(), nullable=False),
        sa.Column("agenda_ct", sa.LargeBinary(), nullable=False),
        sa.Column("minute_taker_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.Enum("scheduled", "cancelled", name="meeting_status",
                                    native_enum=False, create_constraint=True, length=32),
                  nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["mdo_case.id"],
                                name=op.f("fk_meeting_case_id_mdo_case"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by"], ["person.id"],
                                name=op.f("fk_meeting_created_by_person")),
        sa.ForeignKeyConstraint(["minute_taker_id"], ["person.id"],
                                name=op.f("fk_meeting_minute_taker_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
    )
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_meeting_starts_at"), ["starts_at"], unique=False)
    op.create_table(
        "meeting_invitee",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("family", sa.Boolean(), nullable=False),
        sa.Column("invited_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"],
                                name=op.f("fk_meeting_invitee_meeting_id_meeting"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_meeting_invitee_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_invitee")),
        sa.UniqueConstraint("meeting_id", "person_id",
                            name=op.f("uq_meeting_invitee_meeting_id_person_id")),
    )
    with op.batch_alter_table("meeting_invitee", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_invitee_meeting_id"), ["meeting_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_meeting_invitee_person_id"), ["person_id"],
                              unique=False)
    op.create_table(
        "action_item",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=True),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("text_ct", sa.LargeBinary(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.Enum("open", "done", name="action_item_status",
                                    native_enum=False, create_constraint=True, length=32),
                  nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("overdue_reminded_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["mdo_case.id"],
                                name=op.f("fk_action_item_case_id_mdo_case"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by"], ["person.id"],
                                name=op.f("fk_action_item_created_by_person")),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"],
                                name=op.f("fk_action_item_meeting_id_meeting")),
        sa.ForeignKeyConstraint(["owner_id"], ["person.id"],
                                name=op.f("fk_action_item_owner_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_item")),
    )
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_item_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_item_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_item_owner_id"), ["owner_id"], unique=False)


def downgrade() -> None:
    op.drop_table("action_item")
    op.drop_table("meeting_invitee")
    op.drop_table("meeting")
