"""staff lifecycle: SCIM provisioning, chair vacancies, a participant's capacity

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scim_token",
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_scim_token_organisation_id_organisation")),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_scim_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_scim_token_token_hash")),
    )
    op.create_table(
        "scim_user",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("user_name", sa.String(length=255), nullable=False),
        sa.Column("user_name_key", sa.String(length=255), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_scim_user_organisation_id_organisation")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE",
                                name=op.f("fk_scim_user_person_id_person")),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_scim_user")),
        sa.UniqueConstraint("organisation_id", "user_name",
                            name=op.f("uq_scim_user_organisation_id_user_name")),
    )
    op.create_index(op.f("ix_scim_user_organisation_id"), "scim_user", ["organisation_id"])
    op.create_index(op.f("ix_scim_user_user_name_key"), "scim_user", ["user_name_key"])
    op.create_table(
        "scim_group",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_scim_group_organisation_id_organisation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scim_group")),
        sa.UniqueConstraint("organisation_id", "display_name",
                            name=op.f("uq_scim_group_organisation_id_display_name")),
    )
    op.create_index(op.f("ix_scim_group_organisation_id"), "scim_group", ["organisation_id"])
    op.create_table(
        "scim_group_member",
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("display", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["scim_group.id"], ondelete="CASCADE",
                                name=op.f("fk_scim_group_member_group_id_scim_group")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE",
                                name=op.f("fk_scim_group_member_person_id_person")),
        sa.PrimaryKeyConstraint("group_id", "person_id", name=op.f("pk_scim_group_member")),
    )
    op.create_index(op.f("ix_scim_group_member_person_id"), "scim_group_member",
                    ["person_id"])
    op.create_table(
        "case_chair_vacancy",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("left_person_id", sa.String(length=36), nullable=False),
        sa.Column("since", portal.db.UTCDateTime(), nullable=False),
        sa.Column("notified_at", portal.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["mdo_case.id"], ondelete="CASCADE",
                                name=op.f("fk_case_chair_vacancy_case_id_mdo_case")),
        sa.ForeignKeyConstraint(["left_person_id"], ["person.id"],
                                name=op.f("fk_case_chair_vacancy_left_person_id_person")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_chair_vacancy")),
    )
    # A plain nullable column: SQLite adds it without rebuilding the table.
    with op.batch_alter_table("case_participant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capacity_role", sa.String(length=32), nullable=True))
    # Existing participants act in their role at the organisation they take part
    # for, where that is one role; with several it stays open (every role counts,
    # as before) until they choose.
    op.execute(
        "UPDATE case_participant SET capacity_role = ("
        " SELECT MIN(m.role) FROM membership m"
        " WHERE m.person_id = case_participant.person_id"
        " AND m.organisation_id = case_participant.organisation_id)"
        " WHERE (SELECT COUNT(*) FROM membership m"
        " WHERE m.person_id = case_participant.person_id"
        " AND m.organisation_id = case_participant.organisation_id) = 1")


def downgrade() -> None:
    with op.batch_alter_table("case_participant", schema=None) as batch_op:
        batch_op.drop_column("capacity_role")
    op.drop_table("case_chair_vacancy")
    op.drop_index(op.f("ix_scim_group_member_person_id"), table_name="scim_group_member")
    op.drop_table("scim_group_member")
    op.drop_index(op.f("ix_scim_group_organisation_id"), table_name="scim_group")
    op.drop_table("scim_group")
    op.drop_index(op.f("ix_scim_user_user_name_key"), table_name="scim_user")
    op.drop_index(op.f("ix_scim_user_organisation_id"), table_name="scim_user")
    op.drop_table("scim_user")
    op.drop_table("scim_token")
