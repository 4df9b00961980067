"""rights: why a restriction is in force, the family's objections and statements

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rights_objection',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('reason_ct', sa.LargeBinary(), nullable=False),
    sa.Column('filed_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('pending', 'upheld', 'rejected', name='objection_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('restriction_id', sa.String(length=36), nullable=True),
    sa.Column('decided_by', sa.String(length=36), nullable=True),
    sa.Column('decided_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_ct', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['mdo_case.id'], name=op.f('fk_rights_objection_case_id_mdo_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['person.id'], name=op.f('fk_rights_objection_decided_by_person')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_rights_objection_person_id_person')),
    sa.ForeignKeyConstraint(['restriction_id'], ['restriction.id'], name=op.f('fk_rights_objection_restriction_id_restriction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rights_objection'))
    )
    op.create_index(op.f('ix_rights_objection_case_id'), 'rights_objection', ['case_id'], unique=False)
    op.create_table('rights_restriction_note',
    sa.Column('restriction_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('ground', sa.Enum('fg', 'objection', 'upheld_objection', 'rectification', name='restriction_ground', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('source_id', sa.String(length=36), nullable=True),
    sa.Column('reason_ct', sa.LargeBinary(), nullable=False),
    sa.Column('lift_reason_ct', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['mdo_case.id'], name=op.f('fk_rights_restriction_note_case_id_mdo_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['restriction_id'], ['restriction.id'], name=op.f('fk_rights_restriction_note_restriction_id_restriction'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('restriction_id', name=op.f('pk_rights_restriction_note'))
    )
    op.create_index(op.f('ix_rights_restriction_note_case_id'), 'rights_restriction_note', ['case_id'], unique=False)
    op.create_table('rights_family_statement',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('minutes_id', sa.String(length=36), nullable=False),
    sa.Column('section_key', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('text_ct', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['mdo_case.id'], name=op.f('fk_rights_family_statement_case_id_mdo_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['minutes_id'], ['minutes.id'], name=op.f('fk_rights_family_statement_minutes_id_minutes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_rights_family_statement_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rights_family_statement'))
    )
    op.create_index(op.f('ix_rights_family_statement_case_id'), 'rights_family_statement', ['case_id'], unique=False)
    op.create_index(op.f('ix_rights_family_statement_minutes_id'), 'rights_family_statement', ['minutes_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_rights_family_statement_minutes_id'), table_name='rights_family_statement')
    op.drop_index(op.f('ix_rights_family_statement_case_id'), table_name='rights_family_statement')
    op.drop_table('rights_family_statement')
    op.drop_index(op.f('ix_rights_restriction_note_case_id'), table_name='rights_restriction_note')
    op.drop_table('rights_restriction_note')
    op.drop_index(op.f('ix_rights_objection_case_id'), table_name='rights_objection')
    op.drop_table('rights_objection')
