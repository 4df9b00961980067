"""case setting: when a case last became youth care (issue 12, finding 2)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04

The youth-care setting follows the participants' capacities; the case page says
since when. Existing cases keep NULL: the page then names the earliest
youth-care participant's arrival.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mdo_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("youth_care_since", portal.db.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mdo_case", schema=None) as batch_op:
        batch_op.drop_column("youth_care_since")
