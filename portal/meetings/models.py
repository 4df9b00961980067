"""MDO meetings of a case, who is invited, and the action items agreed."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, LargeBinary, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id, str_enum


class MeetingStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class ActionItemStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"


class Meeting(Base):
    """Place and agenda can identify a child or family: encrypted."""

    __tablename__ = "meeting"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                         index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    place_ct: Mapped[bytes] = mapped_column(LargeBinary)
    agenda_ct: Mapped[bytes] = mapped_column(LargeBinary)
    # Place and agenda are case content, read under these data categories.
    agenda_categories: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["other"])
    # 2: the agenda's categories are bound to its ciphertext (``portal.meetings.binding``).
    binding: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    minute_taker_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    status: Mapped[MeetingStatus] = mapped_column(str_enum(MeetingStatus, "meeting_status"))
    created_by: Mapped[str] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MeetingInvitee(Base):
    __tablename__ = "meeting_invitee"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"),
                                            index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    family: Mapped[bool] = mapped_column(default=False)  # a parent or the pupil
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ActionItem(Base):
    """An agreement with an owner and a due date. Its text is encrypted."""

    __tablename__ = "action_item"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                         index=True)
    meeting_id: Mapped[str | None] = mapped_column(ForeignKey("meeting.id"))
    owner_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    text_ct: Mapped[bytes] = mapped_column(LargeBinary)
    categories: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["other"])
    # 2: the categories and the owner are bound to the text (``portal.meetings.binding``).
    binding: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[ActionItemStatus] = mapped_column(
        str_enum(ActionItemStatus, "action_item_status"))
    created_by: Mapped[str] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the content-free reminders went out (before the due date, and overdue).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    overdue_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
