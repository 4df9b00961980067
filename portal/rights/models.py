"""Why a restriction is in force, and the family's objections.

The restriction itself is ``portal.consent.models.Restriction`` (the policy reads
it); a note says on what ground it was placed and why, and why it was lifted.
Reasons are free text that can identify the child: sealed with the case's data
key, so erasing the case shreds them too.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id, str_enum


class RestrictionGround(enum.StrEnum):
    """On what a restriction rests."""

    FG = "fg"  # the FG decided (a request by the family, or on their own assessment)
    OBJECTION = "objection"  # automatically, while the family's objection is pending
    UPHELD_OBJECTION = "upheld_objection"  # the FG upheld the objection: it stays
    # One minutes section, while the chair verifies the family's correction of it.
    RECTIFICATION = "rectification"


class RestrictionNote(Base):
    __tablename__ = "rights_restriction_note"

    restriction_id: Mapped[str] = mapped_column(
        ForeignKey("restriction.id", ondelete="CASCADE"), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                         index=True)
    ground: Mapped[RestrictionGround] = mapped_column(
        str_enum(RestrictionGround, "restriction_ground"))
    source_id: Mapped[str | None] = mapped_column(IdColumn())  # the objection, say
    reason_ct: Mapped[bytes] = mapped_column(LargeBinary)
    lift_reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)


class ObjectionStatus(enum.StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"
    REJECTED = "rejected"


class Objection(Base):
    """The family objects to the processing in a case; the FG decides."""

    __tablename__ = "rights_objection"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                         index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"))
    reason_ct: Mapped[bytes] = mapped_column(LargeBinary)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[ObjectionStatus] = mapped_column(
        str_enum(ObjectionStatus, "objection_status"))
    restriction_id: Mapped[str | None] = mapped_column(ForeignKey("restriction.id"))
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_ct: Mapped[bytes | None] = mapped_column(LargeBinary)


class FamilyStatement(Base):
    """The family's own view attached to a professional opinion in the minutes.

    An opinion cannot be rectified; the statement is shown next to it wherever
    it is shown. Bound to the section's key, so it follows the section through
    later versions. The text is sealed with the case's data key."""

    __tablename__ = "rights_family_statement"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                         index=True)
    minutes_id: Mapped[str] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"),
                                            index=True)
    section_key: Mapped[str] = mapped_column(IdColumn())
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    text_ct: Mapped[bytes] = mapped_column(LargeBinary)
