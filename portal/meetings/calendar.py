"""A minimal, content-free iCalendar (RFC 5545) invitation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def invitation_ics(*, uid: str, starts_at: datetime, minutes: int, now: datetime, link: str,
                   cancelled: bool) -> str:
    """The same text as the mail: when, and where to log in. Nothing about whom."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//MDO-portaal//NL",
        f"METHOD:{'CANCEL' if cancelled else 'REQUEST'}",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(starts_at)}",
        f"DTEND:{_stamp(starts_at + timedelta(minutes=minutes))}",
        "SUMMARY:MDO (details in het MDO-portaal)",
        f"DESCRIPTION:Log in voor de details: {link}",
        f"URL:{link}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"
