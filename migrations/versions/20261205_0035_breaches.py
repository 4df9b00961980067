"""breaches: the data-breach register, its scopes and the cases they reached

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=36), nullable=nullable)


def _at(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, portal.db.UTCDateTime(timezone=True), nullable=nullable)


def _ct(name: str) -> sa.Column[bytes]:
    return sa.Column(name, sa.LargeBinary(), nullable=True)


def _fk(table: str, column: str, target: str, ondelete: str | None = None
        ) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete=ondelete,
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "breach",
        _id("id"), _id("organisation_id"), _id("origin_id", True), _id("reported_by", True),
        _at("reported_at"), _at("discovered_at"), _ct("what_ct"), _ct("how_ct"),
        _ct("assessment_ct"), _at("assessed_at", True), _id("assessed_by", True),
        sa.Column("ap_decision", sa.String(length=16), nullable=True), _ct("ap_reasons_ct"),
        _at("ap_decided_at", True), _id("ap_decided_by", True),
        sa.Column("family_decision", sa.String(length=16), nullable=True),
        _ct("family_reasons_ct"), _at("family_decided_at", True),
        _id("family_decided_by", True),
        _fk("breach", "organisation_id", "organisation"),
        _fk("breach", "origin_id", "breach"),
        _fk("breach", "reported_by", "person"),
        _fk("breach", "assessed_by", "person"),
        _fk("breach", "ap_decided_by", "person"),
        _fk("breach", "family_decided_by", "person"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breach")),
    )
    op.create_index(op.f("ix_breach_organisation_id"), "breach", ["organisation_id"])
    op.create_index(op.f("ix_breach_origin_id"), "breach", ["origin_id"])
    op.create_table(
        "breach_scope",
        _id("id"), _id("breach_id"), sa.Column("kind", sa.String(length=16), nullable=False),
        _id("person_id", True), _at("period_start"), _at("period_end"), _at("defined_at"),
        _id("defined_by"),
        *(sa.Column(name, sa.Integer(), nullable=False)
          for name in ("records", "children", "cases", "organisations")),
        _fk("breach_scope", "breach_id", "breach", ondelete="CASCADE"),
        _fk("breach_scope", "person_id", "person"),
        _fk("breach_scope", "defined_by", "person"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breach_scope")),
    )
    op.create_index(op.f("ix_breach_scope_breach_id"), "breach_scope", ["breach_id"])
    op.create_table(
        "breach_case",
        _id("breach_id"), _id("case_id"), _id("child_id", True),
        _fk("breach_case", "breach_id", "breach", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("breach_id", "case_id", name=op.f("pk_breach_case")),
    )


def downgrade() -> None:
    op.drop_table("breach_case")
    op.drop_index(op.f("ix_breach_scope_breach_id"), table_name="breach_scope")
    op.drop_table("breach_scope")
    op.drop_index(op.f("ix_breach_origin_id"), table_name="breach")
    op.drop_index(op.f("ix_breach_organisation_id"), table_name="breach")
    op.drop_table("breach")
