"""blob storage: file contents as objects in a blob store, outside the database

Each document version records where its ciphertext is (``blob_store``,
``blob_name``); NULL keeps the ``document_segment`` rows of before, which
``portal documents migrate-storage`` moves out. ``blob_garbage`` queues the
objects of erased or discarded versions for deletion after the key is gone.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("document_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("blob_store", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("blob_name", sa.String(length=64), nullable=True))
    op.create_table(
        "blob_garbage",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("store", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("queued_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("not_before", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blob_garbage")),
    )
    op.create_index(op.f("ix_blob_garbage_not_before"), "blob_garbage", ["not_before"])


def downgrade() -> None:
    # Versions already in a blob store would lose their content: refuse rather than strand it.
    bind = op.get_bind()
    moved = bind.execute(sa.text(
        "SELECT count(*) FROM document_version WHERE blob_store IS NOT NULL")).scalar()
    if moved:
        raise RuntimeError(f"{moved} document version(s) are in a blob store: move them back "
                           "into the database before downgrading")
    op.drop_index(op.f("ix_blob_garbage_not_before"), table_name="blob_garbage")
    op.drop_table("blob_garbage")
    with op.batch_alter_table("document_version", schema=None) as batch_op:
        batch_op.drop_column("blob_name")
        batch_op.drop_column("blob_store")
