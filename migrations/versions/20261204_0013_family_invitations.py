"""family invitations: invitations of registered family members, failed redemptions

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=36), nullable=nullable)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, portal.db.UTCDateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str, ondelete: str | None = None
        ) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete)


def _index(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "family_invitation",
        _id("id"), _id("person_id"), _id("child_id"),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        _id("created_by"),
        _at("created_at"), _at("sent_at"), _at("expires_at"),
        _at("opened_at", nullable=True), _at("bound_at", nullable=True),
        _at("revoked_at", nullable=True),
        _fk("family_invitation", "person_id", "person"),
        _fk("family_invitation", "child_id", "child", ondelete="CASCADE"),
        _fk("family_invitation", "created_by", "person"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_invitation")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_family_invitation_code_hash")),
    )
    _index("family_invitation", "person_id", "child_id")
    op.create_table(
        "invitation_failure",
        _id("id"),
        sa.Column("session_ref", sa.String(length=64), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        _at("failed_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation_failure")),
    )
    _index("invitation_failure", "session_ref", "client_address", "failed_at")


def downgrade() -> None:
    with op.batch_alter_table("invitation_failure", schema=None) as batch_op:
        for column in ("failed_at", "client_address", "session_ref"):
            batch_op.drop_index(batch_op.f(f"ix_invitation_failure_{column}"))
    op.drop_table("invitation_failure")
    with op.batch_alter_table("family_invitation", schema=None) as batch_op:
        for column in ("child_id", "person_id"):
            batch_op.drop_index(batch_op.f(f"ix_family_invitation_{column}"))
    op.drop_table("family_invitation")
