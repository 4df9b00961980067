"""A case whose chair left: open until the care coordinator appoints a new one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime


class ChairVacancy(Base):
    __tablename__ = "case_chair_vacancy"

    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                         primary_key=True)
    # Who left, named in the notice on the case page.
    left_person_id: Mapped[str] = mapped_column(ForeignKey("person.id"))
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    # The mail to the care coordinators goes out from the outbox's round
    # (portal.staff.lifecycle.queue_chair_notices), which knows the portal's URL.
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
