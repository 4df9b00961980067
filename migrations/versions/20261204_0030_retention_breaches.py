"""retention: per-organisation retention policies, legal holds, retention erasures

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04

No policy row exists after the upgrade: nothing is deleted until the board
(through the administrator) confirms a period at /admin/retention.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTED_FROM = ("case_closed", "pupil_left", "last_entry")
HOLD_REASONS = ("litigation", "complaint", "data_subject_request", "supervisory_authority",
                "incident")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


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
        "retention_policy",
        _id("id"), _id("organisation_id"),
        sa.Column("data_kind", _enum("retention_data_kind", "case_file"), nullable=False),
        sa.Column("period_months", sa.Integer(), nullable=False),
        sa.Column("counted_from", _enum("retention_counted_from", *COUNTED_FROM),
                  nullable=False),
        _at("confirmed_at"), _id("confirmed_by"),
        sa.CheckConstraint("period_months > 0",
                           name=op.f("ck_retention_policy_period_positive")),
        _fk("retention_policy", "organisation_id", "organisation"),
        _fk("retention_policy", "confirmed_by", "person"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_policy")),
        sa.UniqueConstraint("organisation_id", "data_kind",
                            name=op.f("uq_retention_policy_organisation_id_data_kind")),
    )
    _index("retention_policy", "organisation_id")
    op.create_table(
        "legal_hold",
        _id("id"), _id("case_id", nullable=True), _id("child_id", nullable=True),
        sa.Column("reason", _enum("hold_reason", *HOLD_REASONS), nullable=False),
        _at("placed_at"), _id("placed_by"),
        _at("lifted_at", nullable=True), _id("lifted_by", nullable=True),
        sa.Column("lift_reason", _enum("lift_reason", "ended", "mistake"), nullable=True),
        sa.CheckConstraint("(case_id IS NULL) <> (child_id IS NULL)",
                           name=op.f("ck_legal_hold_case_or_child")),
        _fk("legal_hold", "case_id", "mdo_case", ondelete="CASCADE"),
        _fk("legal_hold", "child_id", "child", ondelete="CASCADE"),
        _fk("legal_hold", "placed_by", "person"),
        _fk("legal_hold", "lifted_by", "person"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_hold")),
    )
    _index("legal_hold", "case_id", "child_id")
    op.create_table(
        "retention_erasure",
        _id("id"), _id("case_id"), _id("policy_id"), _id("organisation_id"),
        sa.Column("period_months", sa.Integer(), nullable=False),
        sa.Column("counted_from", _enum("retention_erasure_counted_from", *COUNTED_FROM),
                  nullable=False),
        _at("event_at"), _at("expired_at"), _at("erased_at"),
        _fk("retention_erasure", "case_id", "mdo_case", ondelete="CASCADE"),
        _fk("retention_erasure", "policy_id", "retention_policy"),
        _fk("retention_erasure", "organisation_id", "organisation"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_erasure")),
        sa.UniqueConstraint("case_id", name=op.f("uq_retention_erasure_case_id")),
    )
    _index("retention_erasure", "organisation_id")


def downgrade() -> None:
    op.drop_table("retention_erasure")
    op.drop_table("legal_hold")
    op.drop_table("retention_policy")
