"""The first administrator, named by ``portal init`` before they ever logged in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id


class AdministratorBinding(Base):
    """A login (provider + subject or e-mail claim) that becomes the operator's administrator.

    Pending until that login first arrives; then ``person_id`` names the
    account it was bound to, and later logins of that account keep the role.
    """

    __tablename__ = "administrator_binding"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"))
    idp: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))  # lower-case
    person_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
