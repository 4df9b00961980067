"""bootstrap: the first administrator's pending binding (``portal init``)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "administrator_binding",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("idp", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"],
                                name="fk_administrator_binding_organisation_id_organisation"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name="fk_administrator_binding_person_id_person"),
        sa.PrimaryKeyConstraint("id", name="pk_administrator_binding"),
    )
    op.create_index("ix_administrator_binding_idp", "administrator_binding", ["idp"])


def downgrade() -> None:
    op.drop_index("ix_administrator_binding_idp", table_name="administrator_binding")
    op.drop_table("administrator_binding")
