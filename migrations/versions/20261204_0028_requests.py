"""requests: data subjects' requests (inspection, rectification, …) and their history

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _id(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=36), nullable=nullable)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, portal.db.UTCDateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def _index(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "subject_request",
        _id("id"),
        sa.Column("kind", _enum("subject_request_kind", "inspection", "rectification",
                                "erasure", "restriction", "objection", "portability"),
                  nullable=False),
        _id("requester_id"), _id("child_id"), _id("case_id", nullable=True),
        sa.Column("channel", _enum("subject_request_channel", "portal", "paper"),
                  nullable=False),
        sa.Column("identity_check", _enum("subject_request_identity", "portal_login",
                                          "id_document", "known_in_person", "signed_letter"),
                  nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("status", _enum("subject_request_status", "received", "identity_check",
                                  "in_progress", "decided"), nullable=False),
        _id("owner_id", nullable=True), _id("data_key_id"),
        sa.Column("description_ct", sa.LargeBinary(), nullable=False),
        sa.Column("outcome", _enum("subject_request_outcome", "granted", "partly_granted",
                                   "refused"), nullable=True),
        sa.Column("reasons_ct", sa.LargeBinary(), nullable=True),
        _at("created_at"), _id("created_by"), _at("decided_at", nullable=True),
        sa.Column("copy_ct", sa.LargeBinary(), nullable=True),
        _at("copy_prepared_at", nullable=True), _at("copy_released_at", nullable=True),
        _at("reminded_nearly_due_at", nullable=True), _at("reminded_overdue_at", nullable=True),
        _fk("subject_request", "requester_id", "person"),
        _fk("subject_request", "child_id", "child"),
        _fk("subject_request", "case_id", "mdo_case"),
        _fk("subject_request", "owner_id", "person"),
        _fk("subject_request", "created_by", "person"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_request")),
    )
    _index("subject_request", "requester_id", "child_id", "case_id", "status")
    op.create_table(
        "subject_request_event",
        _id("id"), _id("request_id"),
        sa.Column("kind", _enum("subject_request_event_kind", "filed", "registered", "assigned",
                                "note", "extended", "identity_asked", "identity_answered",
                                "decided", "copy_prepared", "copy_released"), nullable=False),
        _at("at"), _id("person_id"), _id("organisation_id", nullable=True),
        sa.Column("text_ct", sa.LargeBinary(), nullable=True),
        sa.Column("visible_to_requester", sa.Boolean(), nullable=False),
        _fk("subject_request_event", "request_id", "subject_request"),
        _fk("subject_request_event", "person_id", "person"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_request_event")),
    )
    _index("subject_request_event", "request_id")


def downgrade() -> None:
    op.drop_table("subject_request_event")
    op.drop_table("subject_request")
