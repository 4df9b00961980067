"""MDO cases and who takes part in them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, LargeBinary, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id, str_enum


class LegalBasis(enum.StrEnum):
    """The grondslag of a case (DOMAIN.md); almost always consent."""

    CONSENT = "consent"
    MELDRECHT_VEILIG_THUIS = "meldrecht_veilig_thuis"
    VERWIJSINDEX = "verwijsindex"
    RAAD_KINDERBESCHERMING = "raad_kinderbescherming"
    TLV_OR_EXTRA_SUPPORT = "tlv_or_extra_support"
    OTS = "ots"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTEREST = "vital_interest"


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CaseRole(enum.StrEnum):
    CHAIR = "chair"
    PARTICIPANT = "participant"
    MINUTE_TAKER = "minute_taker"
    OBSERVER = "observer"


class Case(Base):
    """An MDO case. Title and purpose can identify a child: encrypted."""

    __tablename__ = "mdo_case"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    child_id: Mapped[str | None] = mapped_column(ForeignKey("child.id"), index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    title_ct: Mapped[bytes] = mapped_column(LargeBinary)
    purpose_ct: Mapped[bytes] = mapped_column(LargeBinary)
    legal_basis: Mapped[LegalBasis] = mapped_column(str_enum(LegalBasis, "legal_basis"))
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, "case_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(ForeignKey("person.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CaseParticipant(Base):
    __tablename__ = "case_participant"
    __table_args__ = (UniqueConstraint("case_id", "person_id"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                         index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"))
    case_role: Mapped[CaseRole] = mapped_column(str_enum(CaseRole, "case_role"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    added_by: Mapped[str] = mapped_column(ForeignKey("person.id"))
