"""daily privacy: the DPO and the administrator take part in no case

The DPO and administrator roles promise "no case content"; the portal no longer
lets anyone add them as case participants. Participants added before that in
one of those capacities (or, without a recorded capacity, holding no other
membership) are removed, as the chair's "remove participant" would. A chair is
never removed here (a case needs one): none can hold those roles, as only
roles that may start a case chair one.

The meeting place needs no data change: it stays sealed where it is and is now
read on the meeting's own decision by every invitee, whatever the agenda's
categories.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTENT_FREE = ("dpo", "admin")


def upgrade() -> None:
    op.execute(sa.text(
        "DELETE FROM case_participant WHERE case_role <> 'chair' AND ("
        " capacity_role IN ('dpo', 'admin')"
        " OR (capacity_role IS NULL AND NOT EXISTS ("
        "   SELECT 1 FROM membership m WHERE m.person_id = case_participant.person_id"
        "   AND m.role NOT IN ('dpo', 'admin'))))"))


def downgrade() -> None:
    # Removed participants are not restored: they should never have been added.
    pass
