"""One rule for every free-text field: no hidden control or text-direction characters.

NUL and the other C0/C1 control characters (DEL included) have no place in a
title or a note; a bidi override or isolate (U+202A–U+202E, U+2066–U+2069)
makes "Verslag \\u202efdp.exe\\u202c" display as "Verslag exe.pdf". Multi-line
fields keep tab and the line breaks a browser sends (CR LF); one-line fields
keep tab only. File names are cleaned elsewhere (portal.web.uploads).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping

from portal.errors import N_, InvalidInput

BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
CONTROLS = frozenset(chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)))
ONE_LINE_ALLOWED = frozenset("\t")
MULTI_LINE_ALLOWED = frozenset("\t\n\r")
HIDDEN_CHARACTERS = N_("This field contains hidden control or text-direction characters."
                       " Remove them (retype the text rather than pasting it).")


def hidden_characters(value: str, *, multiline: bool = False) -> bool:
    """Whether ``value`` holds a character the rule refuses."""
    allowed = MULTI_LINE_ALLOWED if multiline else ONE_LINE_ALLOWED
    return any((ch in CONTROLS and ch not in allowed) or ch in BIDI_CONTROLS for ch in value)


def check_text(errors: MutableMapping[str, str], fields: Mapping[str, str], *,
               multiline: Iterable[str] = ()) -> None:
    """Add the message to ``errors`` for each of ``fields`` (name → value) that breaks the
    rule, unless that field already has a message of its own."""
    multi = frozenset(multiline)
    for name, value in fields.items():
        if name not in errors and hidden_characters(value, multiline=name in multi):
            errors[name] = HIDDEN_CHARACTERS


def require_clean_text(fields: Mapping[str, str], *, multiline: Iterable[str] = ()) -> None:
    """Raise ``InvalidInput`` with the message at each of ``fields`` that breaks the rule
    (for forms that check their fields one at a time)."""
    errors: dict[str, str] = {}
    check_text(errors, fields, multiline=multiline)
    if errors:
        raise InvalidInput(errors)
