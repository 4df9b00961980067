"""Server-side sessions: opaque ids, timeouts, CSRF tokens.

Security contract
-----------------
The browser holds only a random 256-bit id. The store sees only a keyed hash
of it (``session_key``), so a copy of the session table cannot be replayed as
cookies. ``is_live`` enforces the idle and absolute timeouts on every request;
the caller MUST drop a session for which it returns False. ``csrf_token`` is
derived from the session's own random secret, so it changes with the session
(at login) and cannot be forged without it; ``csrf_valid`` accepts any string
(a malformed or non-ASCII one is simply invalid, never an exception).

The provider's ID token is kept only for the logout's ``id_token_hint``, and
only sealed (AES-256-GCM under a key derived from the session secret, bound to
the session's key): a copy of the session table does not reveal it, and a
sealed token moved to another session row does not open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

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
    # The ID token, sealed (``seal_id_token``); None for sessions without one.
    id_token_sealed: str | None = None
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
    """Constant-time comparison as bytes: ``compare_digest`` refuses non-ASCII
    ``str`` with a TypeError, which would turn a forged token into a 500."""
    if not presented:
        return False
    return hmac.compare_digest(csrf_token(session).encode(),
                               presented.encode("utf-8", "surrogatepass"))


def _id_token_key(secret: str) -> AESGCM:
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=b"mdo-portal id_token_hint").derive(secret.encode()))


def seal_id_token(secret: str, session_key: str, id_token: str) -> str:
    """The ID token encrypted for storage with the session ``session_key``."""
    nonce = secrets.token_bytes(12)
    sealed = _id_token_key(secret).encrypt(nonce, id_token.encode(), session_key.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def open_id_token(secret: str, session: SessionData) -> str | None:
    """The session's ID token, or None when it has none or it does not open."""
    if not session.id_token_sealed:
        return None
    try:
        raw = base64.urlsafe_b64decode(session.id_token_sealed.encode())
        plain = _id_token_key(secret).decrypt(raw[:12], raw[12:], session.key.encode())
    except (InvalidTag, ValueError):
        return None
    return plain.decode()


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
              provider_id: str, acr: str | None, auth_time: int | None,
              id_token: str | None = None) -> tuple[str, SessionData]:
    """The session after login: a NEW id and CSRF secret (no fixation)."""
    session_id, fresh = new_session(secret, now)
    sealed = seal_id_token(secret, fresh.key, id_token) if id_token else None
    return session_id, replace(
        fresh,
        user_id=user_id,
        provider_id=provider_id,
        acr=acr,
        auth_time=auth_time,
        language=previous.language,
        id_token_sealed=sealed,
        pending_logins=dict(previous.pending_logins),
    )
