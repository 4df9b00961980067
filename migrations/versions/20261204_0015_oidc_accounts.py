"""oidc accounts: issuer + subject as the account key; the sealed ID token per session

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing people keep working: their (provider id, subject) is bound to
    # the issuer at their next login, and that binding is logged.
    op.create_table(
        "oidc_account",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("issuer", sa.String(length=400), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("bound_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("bound_by", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_oidc_account_person_id_person"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_account")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_oidc_account_issuer_subject")),
    )
    op.create_index(op.f("ix_oidc_account_person_id"), "oidc_account", ["person_id"])
    with op.batch_alter_table("web_session") as batch:
        batch.add_column(sa.Column("id_token_sealed", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("web_session") as batch:
        batch.drop_column("id_token_sealed")
    op.drop_index(op.f("ix_oidc_account_person_id"), table_name="oidc_account")
    op.drop_table("oidc_account")
