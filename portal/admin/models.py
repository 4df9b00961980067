"""What the administrator changed in an organisation's settings, kept for the FG."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id


class GroundRoleChange(Base):
    """Who set which roles of an organisation may invoke a legal ground, and when.

    The current setting is ``organisation_ground_role`` (portal.consent.models);
    this is its history, one row per save, so the FG can see since when a role
    may disclose without consent and on whose decision.
    """

    __tablename__ = "ground_role_change"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    roles: Mapped[str] = mapped_column(String(400))  # sorted, comma-joined role values
    changed_by: Mapped[str | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
