"""Dutch by default, English on request: gettext catalogs compiled at set-up.

The active language lives in a context variable that the request wrapper sets
inside the worker thread, so concurrent requests never see each other's
language.
"""

from __future__ import annotations

import contextvars
from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

LANGUAGES = ("nl", "en")
CATALOG_DIR = Path(__file__).resolve().parent.parent / "translations"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("language", default="nl")


@cache
def translations(language: str) -> NullTranslations:
    if language == "en":
        # Message ids are English: no catalog needed.
        return NullTranslations()
    found = Translations.load(str(CATALOG_DIR), [language], domain="messages")
    if not isinstance(found, Translations):
        raise RuntimeError(
            f"no compiled {language} catalog in {CATALOG_DIR}; run `make setup` "
            "(pybabel compile) first"
        )
    return found


def set_language(language: str) -> None:
    _current.set(language if language in LANGUAGES else "nl")


def current_language() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return translations(_current.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ungettext(singular, plural, n)


_ = gettext


def negotiate(cookie: str | None, accept_language: str | None, default: str) -> str:
    """The language from the user's choice, else the browser's, else the default."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return default
