"""Exceptions that services raise and the request boundary turns into pages."""

from __future__ import annotations

from portal.policy import Deny


def N_(message: str) -> str:  # noqa: N802  (the gettext convention for "mark only")
    """Mark ``message`` for translation; it is translated where it is shown."""
    return message


class AccessDenied(Exception):
    """The policy said no; the attempt is already on record."""

    def __init__(self, decision: Deny) -> None:
        super().__init__(decision.reason)
        self.decision = decision


class InvalidInput(ValueError):
    """Bad form input; ``errors`` maps field names to messages (message ids)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors
