"""Keyed blind-index tokens of case titles and child names, and sealed search queries.

A token is an HMAC (portal.people.blind_index's key) of one normalised word or
word prefix: the database alone cannot be tested against guesses, and shows
only which cases share a word. A query is kept sealed under its own data key;
the searcher's access record points to it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id


class SearchToken(Base):
    __tablename__ = "search_token"

    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                         primary_key=True)
    token: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class SearchQuery(Base):
    __tablename__ = "search_query"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    person_id: Mapped[str | None] = mapped_column(IdColumn())
    query_ct: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
