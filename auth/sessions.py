"""Server-side sessions: opaque ids, timeouts, CSRF tokens.

Security contract
-----------------
The browser holds only a random 256-bit id. The store sees only a keyed hash
of it (``session_key``), so a copy of the session table cannot be replayed as
cookies. ``is_live`` enforces the idle and absolute timeouts on every request;
the caller MUST drop a session for which it returns False. ``csrf_token`` is
derived from the session's own random secret, so it changes with the session
(at login) and cannot be forged without it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from auth.config import SessionPolicy

MAX_PENDING_LOGINS = 5


@dataclass(frozen=True)
class SessionData:
    """One server-side session. ``user_id`` is None before login."""

    key: str
    created_at: datetime
    last_seen_at: datetime
    csrf_secret: str
    user_id: str | None = None
    provider_id: str | None = None
    acr: str | None = None
    auth_time: int | None = None
    language: str | None = None
    pending_logins: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


class SessionStore(Protocol):
    """Where sessions live; the portal implements it on its database."""

    def load(self, key: str) -> SessionData | None: ...

    def save(self, session: SessionData) -> None: ...

    def delete(self, key: str) -> None: ...

    def delete_for_user(self, user_id: str) -> int: ...


def new_session_id() -> str:
    """A fresh cookie value: 256 bits from the OS CSPRNG."""
    return secrets.token_urlsafe(32)


def session_key(secret: str, session_id: str) -> str:
    """The keyed hash under which a cookie value is stored."""
    return hmac.new(secret.encode(), session_id.encode(), hashlib.sha256).hexdigest()


def new_session(secret: str, now: datetime) -> tuple[str, SessionData]:
    """A new anonymous session: the cookie value and what to store."""
    session_id = new_session_id()
    return session_id, SessionData(
        key=session_key(secret, session_id),
        created_at=now,
        last_seen_at=now,
        csrf_secret=secrets.token_urlsafe(32),
    )


def is_live(session: SessionData, now: datetime, policy: SessionPolicy) -> bool:
    """False once the idle or the absolute timeout has passed."""
    if now - session.last_seen_at > policy.idle_timeout:
        return False
    return now - session.created_at <= policy.absolute_timeout


def csrf_token(session: SessionData) -> str:
    """The token forms and htmx requests must echo back."""
    return hmac.new(session.csrf_secret.encode(), b"csrf", hashlib.sha256).hexdigest()


def csrf_valid(session: SessionData, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token(session), presented or "")


def remember_pending(session: SessionData, state: str,
                     pending: Mapping[str, Any]) -> SessionData:
    """Add a pending login; several tabs may log in at once, the oldest drop off."""
    logins = dict(session.pending_logins)
    logins[state] = dict(pending)
    while len(logins) > MAX_PENDING_LOGINS:
        oldest = min(logins, key=lambda s: int(logins[s].get("started_at", 0)))
        del logins[oldest]
    return replace(session, pending_logins=logins)


def take_pending(session: SessionData, state: str) -> tuple[SessionData, Mapping[str, Any] | None]:
    """Remove and return the pending login for ``state`` (single use)."""
    logins = dict(session.pending_logins)
    found = logins.pop(state, None)
    return replace(session, pending_logins=logins), found


def logged_in(secret: str, previous: SessionData, now: datetime, *, user_id: str,
              provider_id: str, acr: str | None, auth_time: int | None) -> tuple[str, SessionData]:
    """The session after login: a NEW id and CSRF secret (no fixation)."""
    session_id, fresh = new_session(secret, now)
    return session_id, replace(
        fresh,
        user_id=user_id,
        provider_id=provider_id,
        acr=acr,
        auth_time=auth_time,
        language=previous.language,
        pending_logins=dict(previous.pending_logins),
    )
