"""What production refuses in its settings: a session secret too short or not random
enough, and identity providers without https or a minimum assurance level
(``Settings.check`` refuses a production start with them)."""

from __future__ import annotations

import math
from collections import Counter

from auth.config import IdentityProviderConfig

MIN_SECRET_BYTES = 32
# Estimated from the characters' spread (Shannon): 32 random bytes in base64 or
# hex score well above this; a repeated, dictionary-like or short secret does not.
MIN_SECRET_BITS = 160
GENERATE_HINT = "generate one with `openssl rand -base64 32`"


def estimated_entropy_bits(secret: str) -> float:
    """Shannon entropy of the secret's characters, times its length (an upper bound)."""
    if not secret:
        return 0.0
    counts = Counter(secret)
    total = len(secret)
    per_char = -sum(n / total * math.log2(n / total) for n in counts.values())
    return per_char * total


def session_secret_problems(secret: str) -> list[str]:
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        return [f"PORTAL_SESSION_SECRET is shorter than {MIN_SECRET_BYTES} bytes "
                f"({GENERATE_HINT})"]
    if estimated_entropy_bits(secret) < MIN_SECRET_BITS:
        return [f"PORTAL_SESSION_SECRET is not random enough ({GENERATE_HINT})"]
    return []


def identity_provider_problems(providers: tuple[IdentityProviderConfig, ...]) -> list[str]:
    problems = []
    for provider in providers:
        if not provider.issuer.startswith("https://"):
            problems.append(f"PORTAL_IDPS_FILE: identity provider {provider.id!r} has an "
                            "issuer that is not https://")
        if not provider.min_acr:
            problems.append(f"PORTAL_IDPS_FILE: identity provider {provider.id!r} has no "
                            "min_acr (e.g. http://eidas.europa.eu/LoA/substantial)")
    return problems
