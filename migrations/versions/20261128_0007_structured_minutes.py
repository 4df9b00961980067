"""structured minutes: versions, sections, drafts, corrections (issue 6)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('minutes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('meeting_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['mdo_case.id'], name=op.f('fk_minutes_case_id_mdo_case')),
    sa.ForeignKeyConstraint(['created_by'], ['person.id'], name=op.f('fk_minutes_created_by_person')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_minutes_meeting_id_meeting')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes')),
    sa.UniqueConstraint('meeting_id', name=op.f('uq_minutes_meeting_id'))
    )
    with op.batch_alter_table('minutes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_case_id'), ['case_id'], unique=False)

    op.create_table('minutes_correction',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('minutes_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('section_key', sa.String(length=36), nullable=False),
    sa.Column('categories', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'accepted', 'rejected', name='minutes_correction_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('data_key_id', sa.String(length=36), nullable=False),
    sa.Column('text_ct', sa.LargeBinary(), nullable=False),
    sa.Column('reason_ct', sa.LargeBinary(), nullable=False),
    sa.Column('proposed_by', sa.String(length=36), nullable=False),
    sa.Column('proposed_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=36), nullable=True),
    sa.Column('decided_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_ct', sa.LargeBinary(), nullable=True),
    sa.Column('result_version', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_minutes_correction_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['decided_by'], ['person.id'], name=op.f('fk_minutes_correction_decided_by_person')),
    sa.ForeignKeyConstraint(['minutes_id'], ['minutes.id'], name=op.f('fk_minutes_correction_minutes_id_minutes')),
    sa.ForeignKeyConstraint(['proposed_by'], ['person.id'], name=op.f('fk_minutes_correction_proposed_by_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes_correction'))
    )
    with op.batch_alter_table('minutes_correction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_correction_minutes_id'), ['minutes_id'], unique=False)

    op.create_table('minutes_draft',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('minutes_id', sa.String(length=36), nullable=False),
    sa.Column('author_id', sa.String(length=36), nullable=False),
    sa.Column('data_key_id', sa.String(length=36), nullable=False),
    sa.Column('content_ct', sa.LargeBinary(), nullable=False),
    sa.Column('saved_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_minutes_draft_author_id_person')),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_minutes_draft_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['minutes_id'], ['minutes.id'], name=op.f('fk_minutes_draft_minutes_id_minutes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes_draft')),
    sa.UniqueConstraint('minutes_id', 'author_id', name=op.f('uq_minutes_draft_minutes_id_author_id'))
    )
    with op.batch_alter_table('minutes_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_draft_minutes_id'), ['minutes_id'], unique=False)

    op.create_table('minutes_version',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('minutes_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'approved', name='minutes_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('data_key_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=False),
    sa.Column('submitted_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.String(length=36), nullable=True),
    sa.Column('correction_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['approved_by'], ['person.id'], name=op.f('fk_minutes_version_approved_by_person')),
    sa.ForeignKeyConstraint(['created_by'], ['person.id'], name=op.f('fk_minutes_version_created_by_person')),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_minutes_version_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['minutes_id'], ['minutes.id'], name=op.f('fk_minutes_version_minutes_id_minutes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes_version')),
    sa.UniqueConstraint('minutes_id', 'version', name=op.f('uq_minutes_version_minutes_id_version'))
    )
    with op.batch_alter_table('minutes_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_version_minutes_id'), ['minutes_id'], unique=False)

    op.create_table('minutes_section',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('version_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('section_key', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.Enum('discussion', 'agreements', 'outcome', name='minutes_section_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('nature', sa.Enum('fact', 'opinion', name='minutes_section_nature', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('shared_with_parents', sa.Boolean(), nullable=False),
    sa.Column('categories', sa.String(length=200), nullable=False),
    sa.Column('heading_ct', sa.LargeBinary(), nullable=False),
    sa.Column('body_ct', sa.LargeBinary(), nullable=False),
    sa.Column('sealed_version', sa.Integer(), nullable=False),
    sa.Column('data_key_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_minutes_section_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['version_id'], ['minutes_version.id'], name=op.f('fk_minutes_section_version_id_minutes_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes_section')),
    sa.UniqueConstraint('version_id', 'position', name=op.f('uq_minutes_section_version_id_position'))
    )
    with op.batch_alter_table('minutes_section', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_section_data_key_id'), ['data_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_minutes_section_section_key'), ['section_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_minutes_section_version_id'), ['version_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('minutes_section', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_section_version_id'))
        batch_op.drop_index(batch_op.f('ix_minutes_section_section_key'))
        batch_op.drop_index(batch_op.f('ix_minutes_section_data_key_id'))

    op.drop_table('minutes_section')
    with op.batch_alter_table('minutes_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_version_minutes_id'))

    op.drop_table('minutes_version')
    with op.batch_alter_table('minutes_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_draft_minutes_id'))

    op.drop_table('minutes_draft')
    with op.batch_alter_table('minutes_correction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_correction_minutes_id'))

    op.drop_table('minutes_correction')
    with op.batch_alter_table('minutes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_case_id'))

    op.drop_table('minutes')
