"""The .ics invitation: Dutch, content-free, text escaped and lines folded per RFC 5545."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from portal.meetings.calendar import escape_text, fold, invitation_ics

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STARTS = datetime(2026, 3, 5, 13, 30, tzinfo=UTC)
LINK = "https://portaal.example/meetings/0b1c4c55-0000-4000-8000-" + "a" * 40


def ics(organisation: str | None = "Scholengemeenschap Het Baken, locatie Noord; één",
        *, cancelled: bool = False) -> str:
    return invitation_ics(uid="m1@mdo-portaal", starts_at=STARTS, minutes=60, now=NOW,
                          link=LINK, cancelled=cancelled, organisation=organisation)


def unfolded(text: str) -> list[str]:
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def test_every_line_is_at_most_75_octets_and_unfolds_to_the_whole() -> None:
    text = ics("Ééntje " * 30)  # long, and with two-octet characters
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75, line
    lines = unfolded(text)
    description = next(line for line in lines if line.startswith("DESCRIPTION"))
    assert "Ééntje Ééntje" in description and LINK in description


def test_folding_never_splits_a_character() -> None:
    line = "X" * 74 + "é" + "ü" * 80
    folded = fold(line)
    for piece in folded.split("\r\n"):
        piece.encode("utf-8").decode("utf-8")
        assert len(piece.encode("utf-8")) <= 75
    assert folded.replace("\r\n ", "") == line
    assert fold("kort") == "kort"


def test_text_is_escaped() -> None:
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    summary = next(line for line in unfolded(ics()) if line.startswith("SUMMARY"))
    assert summary == ("SUMMARY;LANGUAGE=nl:MDO van Scholengemeenschap Het Baken\\, "
                       "locatie Noord\\; één (details in het MDO-portaal)")
    # No unescaped separator is left in a text value.
    for line in unfolded(ics()):
        if line.startswith(("SUMMARY", "DESCRIPTION")):
            value = line.split(":", 1)[1]
            assert not re.search(r"(?<!\\)[,;]", value), line


def test_the_invitation_is_in_dutch_and_says_nothing_about_whom() -> None:
    lines = unfolded(ics())
    text = "\n".join(lines).replace(LINK, "")
    assert "uitgenodigd voor een multidisciplinair overleg" in text
    assert "Log in op het MDO-portaal" in text
    for english in ("meeting", "Log in to", "details in the"):
        assert english not in text
    assert "DTSTART:20260305T133000Z" in lines and "DTEND:20260305T143000Z" in lines
    assert "METHOD:REQUEST" in lines and "STATUS:CONFIRMED" in lines


def test_a_cancellation_says_so_in_dutch() -> None:
    lines = unfolded(ics(None, cancelled=True))
    text = "\n".join(lines)
    assert "METHOD:CANCEL" in lines and "STATUS:CANCELLED" in lines
    assert "gewijzigd of afgelast" in text
    assert "SUMMARY;LANGUAGE=nl:MDO (details in het MDO-portaal)" in lines
