"""family register: people registered before any login is bound to them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A parent the school registers has no login until they redeem an invitation.
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.alter_column("idp", existing_type=sa.String(64), nullable=True)
        batch_op.alter_column("subject", existing_type=sa.String(255), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.alter_column("subject", existing_type=sa.String(255), nullable=False)
        batch_op.alter_column("idp", existing_type=sa.String(64), nullable=False)
