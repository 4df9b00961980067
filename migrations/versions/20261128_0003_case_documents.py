"""case documents: minutes and attachments, versions, segments, erasures

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _kind() -> sa.Enum:
    return sa.Enum("minutes", "attachment", name="document_kind", native_enum=False,
                   create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "case_document",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("kind", _kind(), nullable=False),
        sa.Column("categories", sa.String(length=200), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["mdo_case.id"],
                                name=op.f("fk_case_document_case_id_mdo_case")),
        sa.ForeignKeyConstraint(["created_by"], ["person.id"],
                                name=op.f("fk_case_document_created_by_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_document")),
    )
    with op.batch_alter_table("case_document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_document_case_id"), ["case_id"], unique=False)

    op.create_table(
        "document_version",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data_key_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.Enum("pending", "complete", name="version_status",
                                    native_enum=False, create_constraint=True, length=32),
                  nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("title_ct", sa.LargeBinary(), nullable=True),
        sa.Column("text_ct", sa.LargeBinary(), nullable=True),
        sa.Column("filename_ct", sa.LargeBinary(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("segment_size", sa.Integer(), nullable=True),
        sa.Column("segment_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["person.id"],
                                name=op.f("fk_document_version_created_by_person")),
        sa.ForeignKeyConstraint(["data_key_id"], ["data_key.id"],
                                name=op.f("fk_document_version_data_key_id_data_key")),
        sa.ForeignKeyConstraint(["document_id"], ["case_document.id"],
                                name=op.f("fk_document_version_document_id_case_document")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_version")),
        sa.UniqueConstraint("document_id", "version",
                            name=op.f("uq_document_version_document_id_version")),
    )
    with op.batch_alter_table("document_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_version_data_key_id"), ["data_key_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_document_version_document_id"), ["document_id"],
                              unique=False)

    op.create_table(
        "document_segment",
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["document_version.id"],
                                name=op.f("fk_document_segment_version_id_document_version"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("version_id", "idx", name=op.f("pk_document_segment")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Ciphertext does not compress: spare TOAST the attempt on every segment.
        op.execute("ALTER TABLE document_segment ALTER COLUMN data SET STORAGE EXTERNAL")

    op.create_table(
        "document_erasure",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("kind", _kind(), nullable=False),
        sa.Column("categories", sa.String(length=200), nullable=False),
        sa.Column("versions", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("erased_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("erased_by", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["mdo_case.id"],
                                name=op.f("fk_document_erasure_case_id_mdo_case")),
        sa.ForeignKeyConstraint(["erased_by"], ["person.id"],
                                name=op.f("fk_document_erasure_erased_by_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_erasure")),
    )
    with op.batch_alter_table("document_erasure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_erasure_case_id"), ["case_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document_erasure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_erasure_case_id"))
    op.drop_table("document_erasure")
    op.drop_table("document_segment")
    with op.batch_alter_table("document_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_version_document_id"))
        batch_op.drop_index(batch_op.f("ix_document_version_data_key_id"))
    op.drop_table("document_version")
    with op.batch_alter_table("case_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_document_case_id"))
    op.drop_table("case_document")
