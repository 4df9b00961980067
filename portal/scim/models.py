"""What an organisation's directory provisioned: its token, users and groups.

A SCIM user is a portal ``Person`` (professional) owned by one organisation;
the attributes the directory sends beyond those the portal uses are not
accepted (the served User schema names only what is kept).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id


class ScimToken(Base):
    """An organisation's bearer token, kept only as its SHA-256."""

    __tablename__ = "scim_token"

    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"),
                                                 primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ScimUser(Base):
    __tablename__ = "scim_user"
    __table_args__ = (UniqueConstraint("organisation_id", "user_name"),)

    person_id: Mapped[str] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"),
                                           primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Compared case-insensitively (RFC 7643 §4.1.1): stored lower-cased beside as given.
    user_name: Mapped[str] = mapped_column(String(255))
    user_name_key: Mapped[str] = mapped_column(String(255), index=True)
    external_id: Mapped[str | None] = mapped_column(String(255))
    # The resource as the directory last wrote it (only the served attributes).
    resource: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ScimGroup(Base):
    __tablename__ = "scim_group"
    __table_args__ = (UniqueConstraint("organisation_id", "display_name"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(255))
    external_id: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ScimGroupMember(Base):
    __tablename__ = "scim_group_member"

    group_id: Mapped[str] = mapped_column(ForeignKey("scim_group.id", ondelete="CASCADE"),
                                          primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"),
                                           primary_key=True, index=True)
    # The member's label as the directory sent it (echoed back, as RFC 7643 expects).
    display: Mapped[str | None] = mapped_column(String(255))
