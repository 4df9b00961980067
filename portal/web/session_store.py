"""Sessions in the portal's database, behind ``auth``'s ``SessionStore`` interface."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, Text, delete, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from auth.sessions import SessionData
from portal.db import Base, UTCDateTime


class WebSession(Base):
    __tablename__ = "web_session"

    # A keyed hash of the cookie value, never the value itself.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"),
                                                index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    csrf_secret: Mapped[str] = mapped_column(String(64))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    acr: Mapped[str | None] = mapped_column(String(200))
    auth_time: Mapped[int | None] = mapped_column()
    language: Mapped[str | None] = mapped_column(String(8))
    pending_logins: Mapped[str] = mapped_column(Text, default="{}")
    # Sealed by auth.sessions.seal_id_token: only the logout's id_token_hint.
    id_token_sealed: Mapped[str | None] = mapped_column(Text)


class SqlSessionStore:
    """Implements ``auth.sessions.SessionStore`` within the request's unit of work."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def load(self, key: str) -> SessionData | None:
        row = self.db.get(WebSession, key)
        if row is None:
            return None
        return SessionData(
            key=row.key, created_at=row.created_at, last_seen_at=row.last_seen_at,
            csrf_secret=row.csrf_secret, user_id=row.user_id, provider_id=row.provider_id,
            acr=row.acr, auth_time=row.auth_time, language=row.language,
            id_token_sealed=row.id_token_sealed,
            pending_logins=json.loads(row.pending_logins or "{}"),
        )

    def save(self, session: SessionData) -> None:
        row = self.db.get(WebSession, session.key) or WebSession(key=session.key)
        row.created_at = session.created_at
        row.last_seen_at = session.last_seen_at
        row.csrf_secret = session.csrf_secret
        row.user_id = session.user_id
        row.provider_id = session.provider_id
        row.acr = session.acr
        row.auth_time = session.auth_time
        row.language = session.language
        row.id_token_sealed = session.id_token_sealed
        row.pending_logins = json.dumps(dict(session.pending_logins), sort_keys=True)
        self.db.add(row)
        self.db.flush()

    def delete(self, key: str) -> None:
        self.db.execute(delete(WebSession).where(WebSession.key == key))

    def delete_for_user(self, user_id: str) -> int:
        keys = self.db.scalars(select(WebSession.key).where(WebSession.user_id == user_id)).all()
        self.db.execute(delete(WebSession).where(WebSession.user_id == user_id))
        return len(keys)

    def purge_expired(self, now: datetime, idle: timedelta, absolute: timedelta) -> int:
        """Delete sessions past their idle or absolute timeout, anonymous ones included.

        A visitor who only opened ``/login`` leaves a session without a user;
        ``is_live`` refuses it after the idle timeout, and this removes it."""
        result = self.db.execute(delete(WebSession).where(or_(
            WebSession.last_seen_at < now - idle, WebSession.created_at < now - absolute))
            .execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)
