"""A minimal, content-free iCalendar (RFC 5545) invitation, in Dutch.

It says what the mail says: that there is an MDO of an organisation, when,
and where to log in; nothing about whom. Text values are escaped (section
3.3.11: backslash, semicolon, comma, line break) and every content line is
folded at 75 octets (section 3.1), never inside a UTF-8 character.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

LINE_OCTETS = 75


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    """A TEXT value per RFC 5545 3.3.11."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line folded into pieces of at most 75 octets (CRLF, space)."""
    pieces: list[str] = []
    current, size = "", 0
    # A continuation line starts with the space, which counts towards its 75.
    limit = LINE_OCTETS
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            pieces.append(current)
            current, size, limit = "", 0, LINE_OCTETS - 1
        current += char
        size += octets
    pieces.append(current)
    return "\r\n ".join(pieces)


def invitation_ics(*, uid: str, starts_at: datetime, minutes: int, now: datetime, link: str,
                   cancelled: bool, organisation: str | None = None, sequence: int = 0) -> str:
    """The same text as the mail: when, of which organisation, and where to log in.

    ``sequence``: how often the meeting was moved; a calendar replaces the entry
    with the same UID only when the sequence is higher than the one it holds."""
    of = f" van {organisation}" if organisation else ""
    summary = f"MDO{of} (details in het MDO-portaal)"
    if cancelled:
        description = f"Dit MDO{of} is gewijzigd of afgelast. Log in om te zien wat: {link}"
    elif sequence:
        description = f"Dit MDO{of} is verplaatst. Log in op het MDO-portaal: {link}"
    else:
        description = (f"U bent uitgenodigd voor een multidisciplinair overleg (MDO){of}. "
                       f"Log in op het MDO-portaal om te zien waarover het gaat: {link}")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//MDO-portaal//NL",
        f"METHOD:{'CANCEL' if cancelled else 'REQUEST'}",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"SEQUENCE:{sequence}",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(starts_at)}",
        f"DTEND:{_stamp(starts_at + timedelta(minutes=minutes))}",
        f"SUMMARY;LANGUAGE=nl:{escape_text(summary)}",
        f"DESCRIPTION;LANGUAGE=nl:{escape_text(description)}",
        f"URL:{link}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)
