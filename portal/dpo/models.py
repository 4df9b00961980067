"""The FG's own records: the portal-wide supervision grant and the register of processing.

A supervision grant widens one FG's scope to the whole portal. It is explicit
(``portal dpo supervise``), kept after it is lifted (``revoked_at``), and every
use of it is named on the access record it allows.

The register of processing (GDPR art. 30) is kept per organisation as numbered
versions: each holds the register as it was generated from the portal's
configuration together with what the FG filled in (processor agreements,
DPIA reference). It names purposes, grounds and categories, never a child.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id


class SupervisionGrant(Base):
    __tablename__ = "dpo_supervision"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    granted_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(200))


class ProcessingRegisterVersion(Base):
    __tablename__ = "processing_register_version"
    __table_args__ = (UniqueConstraint("organisation_id", "version"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
