"""Invitation codes: high-entropy, single-use, kept only as a keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

# 32 random bytes: 256 bits, far beyond guessing even without the rate limit.
CODE_BYTES = 32
# token_urlsafe(32) is 43 characters; anything longer is not one of ours.
MAX_CODE_LENGTH = 64


@dataclass(frozen=True)
class InvitationKeys:
    """What issuing and checking codes needs from the settings."""

    secret: str  # the session secret: a code's hash is useless without it
    public_url: str
    days: int


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def code_hash(secret: str, code: str) -> str:
    """HMAC-SHA256 of the code: a copy of the table does not yield usable codes."""
    return hmac.new(secret.encode(), b"family-invitation:" + code.encode(),
                    hashlib.sha256).hexdigest()


def clean_code(raw: str) -> str | None:
    """The code as typed or pasted (whitespace dropped); None when it cannot be a code."""
    code = "".join(raw.split())
    if not code or len(code) > MAX_CODE_LENGTH:
        return None
    if not all(c.isascii() and (c.isalnum() or c in "-_") for c in code):
        return None
    return code


def link(keys: InvitationKeys, code: str) -> str:
    return f"{keys.public_url}/invitation/{code}"
