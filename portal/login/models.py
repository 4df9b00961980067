"""Which login (issuer and subject) belongs to which portal person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id


class OidcAccount(Base):
    """A stable account key: the provider's issuer plus its ``sub``.

    The issuer, not the configured provider id, so renaming a provider in the
    configuration does not orphan its users; a person may hold several (a
    subject that changed is kept beside the new one, as the trail of the move).
    """

    __tablename__ = "oidc_account"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"),
                                           index=True)
    issuer: Mapped[str] = mapped_column(String(400))
    subject: Mapped[str] = mapped_column(String(255))
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # How the binding came about: "login", "legacy" (an account from before
    # issuer keys), "previous_subject" or "rebind" (the administrator's command).
    bound_by: Mapped[str] = mapped_column(String(32))
