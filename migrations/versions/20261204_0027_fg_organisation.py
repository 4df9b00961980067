"""fg organisation: the explicit supervision grant and the register of processing

One FG per organisation: the portal-wide supervisor is whoever holds an active
row in ``dpo_supervision`` (granted and lifted with ``portal dpo supervise`` /
``unsupervise``; lifted grants stay as the trail). The register of processing
(GDPR art. 30) is kept per organisation as numbered versions.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dpo_supervision",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("granted_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(200), nullable=False),
        sa.Column("revoked_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_dpo_supervision_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dpo_supervision")),
    )
    op.create_index("ix_dpo_supervision_person_id", "dpo_supervision", ["person_id"])
    op.create_table(
        "processing_register_version",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("organisation_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["person.id"],
                                name=op.f("fk_processing_register_version_created_by_person")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"],
            name=op.f("fk_processing_register_version_organisation_id_organisation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processing_register_version")),
        sa.UniqueConstraint(
            "organisation_id", "version",
            name=op.f("uq_processing_register_version_organisation_id_version")),
    )
    op.create_index("ix_processing_register_version_organisation_id",
                    "processing_register_version", ["organisation_id"])


def downgrade() -> None:
    op.drop_index("ix_processing_register_version_organisation_id",
                  table_name="processing_register_version")
    op.drop_table("processing_register_version")
    op.drop_index("ix_dpo_supervision_person_id", table_name="dpo_supervision")
    op.drop_table("dpo_supervision")
