"""consent: consent records, custody facts, restrictions, break-glass, anonymous cases

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


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
        "organisation_consent_rule",
        _id("organisation_id"),
        sa.Column("rule", _enum("organisation_rule", "every_custodian", "one_custodian"),
                  nullable=False),
        sa.Column("warning_days", sa.Integer(), nullable=False),
        _fk("organisation_consent_rule", "organisation_id", "organisation"),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_organisation_consent_rule")),
    )
    op.create_table(
        "consent",
        _id("id"), _id("case_id"), _id("child_id"),
        sa.Column("consenter_kind", _enum("consenter_kind", "adult", "child"), nullable=False),
        _id("consenter_person_id", nullable=True),
        sa.Column("method", _enum("consent_method", "portal", "signed_form"), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        _at("given_at"),
        _id("recorded_by"),
        sa.Column("acr", sa.String(length=200), nullable=True),
        _id("form_attachment_id", nullable=True),
        _at("withdrawn_at", nullable=True),
        _id("withdrawn_by", nullable=True),
        sa.Column("withdrawal_method", _enum("withdrawal_method", "portal", "signed_form"),
                  nullable=True),
        _fk("consent", "case_id", "mdo_case", ondelete="CASCADE"),
        _fk("consent", "child_id", "child"),
        _fk("consent", "consenter_person_id", "person"),
        _fk("consent", "recorded_by", "person"),
        _fk("consent", "withdrawn_by", "person"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    _index("consent", "case_id", "child_id")
    op.create_table(
        "custody_record",
        _id("id"), _id("child_relation_id"),
        sa.Column("relationship", _enum("custody_relationship", "married",
                                        "registered_partnership", "unmarried", "divorced",
                                        "single"), nullable=False),
        sa.Column("is_mother", sa.Boolean(), nullable=True),
        sa.Column("custody_applied", sa.Boolean(), nullable=False),
        sa.Column("court_custody", sa.Boolean(), nullable=True),
        sa.Column("evidence", _enum("custody_evidence", "gezagsregister", "brp",
                                    "parent_statement"), nullable=True),
        _id("recorded_by"),
        _at("recorded_at"),
        _fk("custody_record", "child_relation_id", "child_relation", ondelete="CASCADE"),
        _fk("custody_record", "recorded_by", "person"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_record")),
    )
    _index("custody_record", "child_relation_id")
    op.create_table(
        "restriction",
        _id("id"), _id("case_id"), _id("item_id", nullable=True),
        _id("placed_by"), _at("placed_at"),
        _id("lifted_by", nullable=True), _at("lifted_at", nullable=True),
        _fk("restriction", "case_id", "mdo_case", ondelete="CASCADE"),
        _fk("restriction", "lifted_by", "person"),
        _fk("restriction", "placed_by", "person"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_restriction")),
    )
    _index("restriction", "case_id")
    op.create_table(
        "break_glass_grant",
        _id("id"), _id("case_id"), _id("person_id"),
        sa.Column("reason_ct", sa.LargeBinary(), nullable=False),
        _at("granted_at"), _at("expires_at"),
        _at("dpo_notified_at", nullable=True),
        _at("reviewed_at", nullable=True),
        _id("reviewed_by", nullable=True),
        _fk("break_glass_grant", "case_id", "mdo_case", ondelete="CASCADE"),
        _fk("break_glass_grant", "person_id", "person"),
        _fk("break_glass_grant", "reviewed_by", "person"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass_grant")),
    )
    _index("break_glass_grant", "case_id", "person_id", "reviewed_at")
    op.create_table(
        "identifier_override",
        _id("id"), _id("case_id"), _id("person_id"),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        _at("confirmed_at"),
        _fk("identifier_override", "case_id", "mdo_case", ondelete="CASCADE"),
        _fk("identifier_override", "person_id", "person"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identifier_override")),
    )
    _index("identifier_override", "case_id")
    op.create_table(
        "case_conversion",
        _id("id"), _id("case_id"), _id("child_id"), _id("converted_by"),
        _at("converted_at"),
        sa.Column("consent_ids", sa.JSON(), nullable=False),
        _fk("case_conversion", "case_id", "mdo_case", ondelete="CASCADE"),
        _fk("case_conversion", "child_id", "child"),
        _fk("case_conversion", "converted_by", "person"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_conversion")),
    )
    _index("case_conversion", "case_id")


def downgrade() -> None:
    for table, indexed in (("case_conversion", ("case_id",)),
                           ("identifier_override", ("case_id",)),
                           ("break_glass_grant", ("reviewed_at", "person_id", "case_id")),
                           ("restriction", ("case_id",)),
                           ("custody_record", ("child_relation_id",)),
                           ("consent", ("child_id", "case_id"))):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in indexed:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
    op.drop_table("organisation_consent_rule")
