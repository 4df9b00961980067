"""What a login is, as the portal sees it: the login pending between the
redirect to the provider and the callback, the verified login, the refusal.

These are the values of ``auth.oidc``'s contract (its docstring states the
checks). They are kept apart from the client so that code which only stores,
hands on or reports a login depends on plain data, not on the client's HTTP
machinery (Authlib, requests).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

ADVICE = ("retry", "later", "administrator")


class LoginRejected(Exception):
    """The login attempt failed a check. ``code`` is a stable, loggable reason;
    ``advice`` is one of ``ADVICE``: what the user should do next."""

    def __init__(self, code: str, message: str, advice: str = "retry") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.advice = advice


@dataclass(frozen=True)
class PendingLogin:
    """What must survive between the redirect to the provider and the callback."""

    provider_id: str
    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    started_at: int
    # The level this login must reach (step-up); the provider's minimum applies too.
    required_acr: str | None = None
    # Step-up: the provider must authenticate the user anew (auth_time >= started_at).
    reauthenticate: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> PendingLogin:
        return cls(**{name: raw[name] for name in cls.__dataclass_fields__ if name in raw})


@dataclass(frozen=True)
class VerifiedLogin:
    """A login whose ID token passed every check."""

    provider_id: str
    issuer: str
    subject: str
    claims: Mapping[str, Any]
    acr: str | None
    auth_time: int | None
    # Kept (protected) with the session only as the logout's id_token_hint.
    id_token: str = field(default="", repr=False)
