"""Invitations of family members, and failed redemptions for rate limiting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id


class FamilyInvitation(Base):
    """One invitation of a registered family member, about one child.

    Only an HMAC of the code is kept; resending replaces it (and the expiry), so
    an older link stops working. The status is derived from the timestamps.
    """

    __tablename__ = "family_invitation"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    child_id: Mapped[str] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"),
                                          index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InvitationFailure(Base):
    """A failed redemption: counted per session and per address over the last minute.

    In the database rather than in memory, so the limit holds across workers.
    """

    __tablename__ = "invitation_failure"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    session_ref: Mapped[str] = mapped_column(String(64), index=True)
    client_address: Mapped[str] = mapped_column(String(64), index=True)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
