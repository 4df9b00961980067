"""foundation: organisations, people, children, cases, access records, sessions

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 17:47:38.360398
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('access_record',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('occurred_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('action_code', sa.String(length=1), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('basis', sa.String(length=200), nullable=True),
    sa.Column('user_id', sa.String(length=36), nullable=True),
    sa.Column('user_name', sa.String(length=200), nullable=True),
    sa.Column('user_role', sa.String(length=200), nullable=True),
    sa.Column('user_organisation_id', sa.String(length=36), nullable=True),
    sa.Column('session_ref', sa.String(length=16), nullable=True),
    sa.Column('client_address', sa.String(length=64), nullable=True),
    sa.Column('case_id', sa.String(length=36), nullable=True),
    sa.Column('child_id', sa.String(length=36), nullable=True),
    sa.Column('object_type', sa.String(length=32), nullable=True),
    sa.Column('object_id', sa.String(length=36), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_record'))
    )
    with op.batch_alter_table('access_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_record_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_record_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_record_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_record_user_id'), ['user_id'], unique=False)

    op.create_table('data_key',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('owner_type', sa.String(length=32), nullable=False),
    sa.Column('owner_id', sa.String(length=36), nullable=False),
    sa.Column('kek_version', sa.Integer(), nullable=False),
    sa.Column('wrapped', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_key'))
    )
    with op.batch_alter_table('data_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_key_kek_version'), ['kek_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_key_owner_id'), ['owner_id'], unique=False)

    op.create_table('organisation',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('school', 'youth_care', 'samenwerkingsverband', 'municipality', 'portal', name='organisation_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('slug', name=op.f('uq_organisation_slug'))
    )
    op.create_table('person',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.Enum('professional', 'citizen', name='person_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('idp', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('idp', 'subject', name=op.f('uq_person_idp_subject'))
    )
    op.create_table('child',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=True),
    sa.Column('name_ct', sa.LargeBinary(), nullable=False),
    sa.Column('birthdate_ct', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_child_person_id_person')),
    sa.ForeignKeyConstraint(['school_id'], ['organisation.id'], name=op.f('fk_child_school_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_child')),
    sa.UniqueConstraint('person_id', name=op.f('uq_child_person_id'))
    )
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_child_school_id'), ['school_id'], unique=False)

    op.create_table('membership',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=False),
    sa.Column('role', sa.Enum('mentor', 'care_coordinator', 'school_leader', 'youth_care_worker', 'school_social_worker', 'youth_protector', 'minute_taker', 'dpo', 'admin', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_membership_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_membership_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership')),
    sa.UniqueConstraint('person_id', 'organisation_id', 'role', name=op.f('uq_membership_person_id_organisation_id_role'))
    )
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_person_id'), ['person_id'], unique=False)

    op.create_table('web_session',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('csrf_secret', sa.String(length=64), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=True),
    sa.Column('acr', sa.String(length=200), nullable=True),
    sa.Column('auth_time', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('pending_logins', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['person.id'], name=op.f('fk_web_session_user_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_web_session'))
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_last_seen_at'), ['last_seen_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_session_user_id'), ['user_id'], unique=False)

    op.create_table('child_relation',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('child_id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('relation', sa.Enum('parent_with_custody', 'parent_without_custody', 'guardian', 'foster_parent', 'youth_protector_ots', name='relation', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('custody_evidence', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['child.id'], name=op.f('fk_child_relation_child_id_child'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_child_relation_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_child_relation')),
    sa.UniqueConstraint('child_id', 'person_id', name=op.f('uq_child_relation_child_id_person_id'))
    )
    with op.batch_alter_table('child_relation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_child_relation_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_child_relation_person_id'), ['person_id'], unique=False)

    op.create_table('mdo_case',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('child_id', sa.String(length=36), nullable=True),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=False),
    sa.Column('title_ct', sa.LargeBinary(), nullable=False),
    sa.Column('purpose_ct', sa.LargeBinary(), nullable=False),
    sa.Column('legal_basis', sa.Enum('consent', 'meldrecht_veilig_thuis', 'verwijsindex', 'raad_kinderbescherming', 'tlv_or_extra_support', 'ots', 'legal_obligation', 'vital_interest', name='legal_basis', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', name='case_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=False),
    sa.Column('closed_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['child.id'], name=op.f('fk_mdo_case_child_id_child')),
    sa.ForeignKeyConstraint(['created_by'], ['person.id'], name=op.f('fk_mdo_case_created_by_person')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_mdo_case_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mdo_case'))
    )
    with op.batch_alter_table('mdo_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mdo_case_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mdo_case_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('case_participant',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=False),
    sa.Column('case_role', sa.Enum('chair', 'participant', 'minute_taker', 'observer', name='case_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('added_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('added_by', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['added_by'], ['person.id'], name=op.f('fk_case_participant_added_by_person')),
    sa.ForeignKeyConstraint(['case_id'], ['mdo_case.id'], name=op.f('fk_case_participant_case_id_mdo_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_case_participant_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_case_participant_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_participant')),
    sa.UniqueConstraint('case_id', 'person_id', name=op.f('uq_case_participant_case_id_person_id'))
    )
    with op.batch_alter_table('case_participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_participant_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_participant_person_id'), ['person_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('case_participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_participant_person_id'))
        batch_op.drop_index(batch_op.f('ix_case_participant_case_id'))

    op.drop_table('case_participant')
    with op.batch_alter_table('mdo_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mdo_case_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_mdo_case_child_id'))

    op.drop_table('mdo_case')
    with op.batch_alter_table('child_relation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_child_relation_person_id'))
        batch_op.drop_index(batch_op.f('ix_child_relation_child_id'))

    op.drop_table('child_relation')
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_web_session_last_seen_at'))

    op.drop_table('web_session')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_person_id'))
        batch_op.drop_index(batch_op.f('ix_membership_organisation_id'))

    op.drop_table('membership')
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_child_school_id'))

    op.drop_table('child')
    op.drop_table('person')
    op.drop_table('organisation')
    with op.batch_alter_table('data_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_key_owner_id'))
        batch_op.drop_index(batch_op.f('ix_data_key_kek_version'))

    op.drop_table('data_key')
    with op.batch_alter_table('access_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_record_user_id'))
        batch_op.drop_index(batch_op.f('ix_access_record_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_access_record_child_id'))
        batch_op.drop_index(batch_op.f('ix_access_record_case_id'))

    op.drop_table('access_record')

