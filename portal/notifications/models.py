"""Notifications and each person's mail choice.

A notification is content-free in its stored form: what kind of event, which
object (type and id), which case, for whom, when, and whether it was read or
mailed. Nothing in it says what the object holds; whether the reader may see
the object is decided when they open the link (the page runs the policy).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id, str_enum


class MailChoice(enum.StrEnum):
    IMMEDIATE = "immediate"  # one content-free mail per notification
    DAILY = "daily"  # one content-free digest a day


class Notification(Base):
    __tablename__ = "notification"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    recipient_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(IdColumn())
    # No foreign key: the link outlives an erased case and then leads to its tombstone.
    case_id: Mapped[str | None] = mapped_column(IdColumn(), index=True)
    # The recipient reads it as a family member (links go to the family pages).
    family: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When its mail copy (immediate or in a digest) was queued; set at once for
    # events that have their own mail (meeting invitations).
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class NotificationSetting(Base):
    __tablename__ = "notification_setting"

    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), primary_key=True)
    mail: Mapped[MailChoice] = mapped_column(str_enum(MailChoice, "mail_choice"))
    # The local day the last digest went out: at most one a day.
    last_digest_on: Mapped[date | None] = mapped_column(Date())
