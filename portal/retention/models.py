"""Retention policies per organisation, legal holds, and the record of each retention erasure.

Only codes, ids, periods and dates: nothing here can identify a child. A
hold's reason is a code from a fixed list for that reason (free text would be
case content and have to be sealed).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id, str_enum


class DataKind(enum.StrEnum):
    """What a policy keeps. The case file is the unit the crypto-shredding erases:
    minutes, documents, meetings, action items, title and purpose. The access
    log is not here: it keeps its own retention floor (docs/architecture.md)."""

    CASE_FILE = "case_file"


class CountedFrom(enum.StrEnum):
    """The event from which a retention period runs."""

    CASE_CLOSED = "case_closed"
    PUPIL_LEFT = "pupil_left"
    LAST_ENTRY = "last_entry"


class HoldReason(enum.StrEnum):
    LITIGATION = "litigation"
    COMPLAINT = "complaint"
    DATA_SUBJECT_REQUEST = "data_subject_request"
    SUPERVISORY_AUTHORITY = "supervisory_authority"
    INCIDENT = "incident"


class LiftReason(enum.StrEnum):
    ENDED = "ended"  # the proceedings, complaint or request that needed the hold ended
    MISTAKE = "mistake"  # placed on the wrong case or child


class RetentionPolicy(Base):
    """An organisation's confirmed retention period for one kind of data.

    A row exists only once the board (through the administrator) confirmed it;
    without a row nothing of that organisation is ever deleted."""

    __tablename__ = "retention_policy"
    __table_args__ = (UniqueConstraint("organisation_id", "data_kind"),
                      CheckConstraint("period_months > 0", name="period_positive"))

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    data_kind: Mapped[DataKind] = mapped_column(str_enum(DataKind, "retention_data_kind"))
    period_months: Mapped[int] = mapped_column(Integer)
    counted_from: Mapped[CountedFrom] = mapped_column(
        str_enum(CountedFrom, "retention_counted_from"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_by: Mapped[str] = mapped_column(ForeignKey("person.id"))


class LegalHold(Base):
    """While a hold is in force (not lifted), nothing of its case or child is deleted."""

    __tablename__ = "legal_hold"
    __table_args__ = (CheckConstraint("(case_id IS NULL) <> (child_id IS NULL)",
                                      name="case_or_child"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                                index=True)
    child_id: Mapped[str | None] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"),
                                                 index=True)
    reason: Mapped[HoldReason] = mapped_column(str_enum(HoldReason, "hold_reason"))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    placed_by: Mapped[str] = mapped_column(ForeignKey("person.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lifted_by: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    lift_reason: Mapped[LiftReason | None] = mapped_column(str_enum(LiftReason, "lift_reason"))


class RetentionErasure(Base):
    """One case shredded because its retention period ran out: under which policy, when."""

    __tablename__ = "retention_erasure"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                         unique=True)
    policy_id: Mapped[str] = mapped_column(ForeignKey("retention_policy.id"))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    period_months: Mapped[int] = mapped_column(Integer)
    counted_from: Mapped[CountedFrom] = mapped_column(
        str_enum(CountedFrom, "retention_erasure_counted_from"))
    event_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())
