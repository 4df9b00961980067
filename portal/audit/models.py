"""The access record: one append-only row per access to case data, allowed or denied.

Field names follow NEN 7513 / FHIR AuditEvent so an auditor recognises them.
The record holds the fact of access, never the content.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id


class AccessRecord(Base):
    __tablename__ = "access_record"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    action_code: Mapped[str] = mapped_column(String(1))  # C R U D E
    event_type: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # allowed / denied / failed
    reason: Mapped[str | None] = mapped_column(String(64))
    basis: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(IdColumn(), index=True)
    user_name: Mapped[str | None] = mapped_column(String(200))
    user_role: Mapped[str | None] = mapped_column(String(200))
    user_organisation_id: Mapped[str | None] = mapped_column(IdColumn())
    session_ref: Mapped[str | None] = mapped_column(String(16))
    client_address: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(IdColumn(), index=True)
    child_id: Mapped[str | None] = mapped_column(IdColumn(), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(IdColumn())
    source: Mapped[str] = mapped_column(String(32), default="mdo-portal")
