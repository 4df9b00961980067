"""Reading a provider's claims: a path into nested objects, a list or a string."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def claim_value(claims: Mapping[str, Any], path: str) -> Any:
    """The claim ``path`` names: a top-level claim of that exact name (names
    such as ``https://example.org/roles`` hold dots), else a dotted path into
    nested objects (``realm_access.roles``)."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def claim_list(value: Any) -> list[str]:
    """A list claim, or a space-separated string (as ``scope`` is sent)."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int)]
    return []
