"""The outbox: mail is written in the request's transaction and sent after commit.

A message that was never committed is never sent, and one that could not be
delivered stays here to be retried. Bodies are content-free by design: they
say that something waits in the portal, never what.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id


class OutboxMessage(Base):
    __tablename__ = "mail_outbox"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # An optional text/calendar part (invitations), also content-free.
    calendar: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    # Which process is sending it, until when (portal.jobs.leases): a worker
    # that dies mid-round leaves a lease that expires, not a lost message.
    lease_holder: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
