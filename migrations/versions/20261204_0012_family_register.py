"""family register: people registered before any login is bound to them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A parent the school registers has no login until they redeem an invitation.
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.alter_column("idp", existing_type=sa.String(64), nullable=True)
        batch_op.alter_column("subject", existing_type=sa.String(255), nullable=True)
        # A citizen's name is sealed; the e-mail is found again by its blind index.
        batch_op.add_column(sa.Column("name_ct", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("email_bidx", sa.String(64), nullable=True))
        batch_op.create_index(batch_op.f("ix_person_email_bidx"), ["email_bidx"], unique=False)
    op.create_index("uq_person_citizen_email_bidx", "person", ["email_bidx"], unique=True,
                    sqlite_where=sa.text("kind = 'citizen'"),
                    postgresql_where=sa.text("kind = 'citizen'"))
    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identity_bidx", sa.String(64), nullable=True))
        batch_op.create_index(batch_op.f("ix_child_identity_bidx"), ["identity_bidx"],
                              unique=False)
    op.create_table(
        "child_enrolment",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("child_id", sa.String(36), nullable=False),
        sa.Column("organisation_id", sa.String(36), nullable=False),
        sa.Column("pupil_number_ct", sa.LargeBinary(), nullable=False),
        sa.Column("pupil_number_bidx", sa.String(64), nullable=False),
        sa.Column("group_ct", sa.LargeBinary(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"],
                                name=op.f("fk_child_enrolment_child_id_child"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name=op.f("fk_child_enrolment_organisation_id_organisation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child_enrolment")),
        sa.UniqueConstraint("child_id", "organisation_id",
                            name=op.f("uq_child_enrolment_child_id_organisation_id")),
        sa.UniqueConstraint("organisation_id", "pupil_number_bidx",
                            name=op.f("uq_child_enrolment_organisation_id_pupil_number_bidx")),
    )
    with op.batch_alter_table("child_enrolment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_child_enrolment_child_id"), ["child_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_child_enrolment_organisation_id"),
                              ["organisation_id"], unique=False)


def downgrade() -> None:
    op.drop_table("child_enrolment")
    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_child_identity_bidx"))
        batch_op.drop_column("identity_bidx")
    op.drop_index("uq_person_citizen_email_bidx", table_name="person")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_email_bidx"))
        batch_op.drop_column("email_bidx")
        batch_op.drop_column("name_ct")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.alter_column("subject", existing_type=sa.String(255), nullable=False)
        batch_op.alter_column("idp", existing_type=sa.String(64), nullable=False)
