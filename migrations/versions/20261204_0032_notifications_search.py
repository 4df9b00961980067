"""notifications and search: a content-free inbox per person, each person's mail
choice; blind-index search tokens of cases and sealed search queries

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, portal.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("recipient_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("family", sa.Boolean(), nullable=False),
        _at("created_at"), _at("read_at", True), _at("mailed_at", True),
        sa.ForeignKeyConstraint(["recipient_id"], ["person.id"],
                                name=op.f("fk_notification_recipient_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        for column in ("recipient_id", "case_id", "mailed_at"):
            batch_op.create_index(batch_op.f(f"ix_notification_{column}"), [column],
                                  unique=False)
    op.create_table(
        "notification_setting",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("mail", sa.Enum("immediate", "daily", name="mail_choice", native_enum=False,
                                  create_constraint=True, length=32), nullable=False),
        sa.Column("last_digest_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_notification_setting_person_id_person")),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_notification_setting")),
    )
    op.create_table(
        "search_token",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["mdo_case.id"], ondelete="CASCADE",
                                name=op.f("fk_search_token_case_id_mdo_case")),
        sa.PrimaryKeyConstraint("case_id", "token", name=op.f("pk_search_token")),
    )
    with op.batch_alter_table("search_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_token_token"), ["token"], unique=False)
    op.create_table(
        "search_query",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("query_ct", sa.LargeBinary(), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_query")),
    )


def downgrade() -> None:
    op.drop_table("search_query")
    with op.batch_alter_table("search_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_token_token"))
    op.drop_table("search_token")
    op.drop_table("notification_setting")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        for column in ("mailed_at", "case_id", "recipient_id"):
            batch_op.drop_index(batch_op.f(f"ix_notification_{column}"))
    op.drop_table("notification")
