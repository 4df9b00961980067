"""Wrapped data keys, the state of each KEK version, and erasures backups could still undo.

Destroying a ``data_key`` row destroys the data (crypto-shredding) for the
live database; a ``key_shredding`` row says that a backup copy of it can still
be unwrapped until every KEK version up to ``kek_version`` is destroyed.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id


class DataKey(Base):
    __tablename__ = "data_key"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    owner_type: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[str] = mapped_column(IdColumn(), index=True)
    kek_version: Mapped[int] = mapped_column(Integer, index=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class KekState(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"  # no new wraps; waiting to be destroyed
    RETIRED = "retired"  # destroyed in the key provider


class KekVersionState(Base):
    """Every wrap holds its version's row in shared mode until it commits (see ``retire``)."""

    __tablename__ = "kek_version_state"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(16))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class KeyShredding(Base):
    """Data keys destroyed at ``erased_at``, last wrapped under ``kek_version``."""

    __tablename__ = "key_shredding"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kek_version: Mapped[int] = mapped_column(Integer)
    keys: Mapped[int] = mapped_column(Integer)
    # When the epoch destroyed every KEK version that could unwrap a backup copy.
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
