"""A small, safe subset of Markdown for minutes: escape first, then add structure.

Supported: ``#``/``##``/``###`` headings, ``-``/``*`` bullet lists,
``1.`` numbered lists, paragraphs (single line breaks kept), ``**bold**`` and
``*italic*``. Nothing else: no links, images or raw HTML, so no URL or
attribute ever comes from the text. Every character of input is HTML-escaped
before any tag is added, and the only tags emitted are the fixed ones here.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_HEADING = re.compile(r"(#{1,3})\s+(.*)")
_BULLET = re.compile(r"[-*]\s+(.*)")
_NUMBERED = re.compile(r"\d{1,3}[.)]\s+(.*)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])")
# Headings sit below the page's h1 and the section's h2.
_HEADING_TAGS = {1: "h3", 2: "h4", 3: "h5"}


def _inline(text: str) -> str:
    html = str(escape(text))
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    return _ITALIC.sub(r"<em>\1</em>", html)


def render(text: str) -> Markup:
    """Render minutes text as HTML; safe for any input (see the module docstring)."""
    out: list[str] = []
    paragraph: list[str] = []
    list_tag: str | None = None

    def close_paragraph() -> None:
        if paragraph:
            out.append("<p>" + "<br>\n".join(paragraph) + "</p>")
            paragraph.clear()

    def close_list() -> None:
        nonlocal list_tag
        if list_tag:
            out.append(f"</{list_tag}>")
            list_tag = None

    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        heading, bullet, numbered = (_HEADING.fullmatch(line), _BULLET.fullmatch(line),
                                     _NUMBERED.fullmatch(line))
        if not line:
            close_paragraph()
            close_list()
        elif heading:
            close_paragraph()
            close_list()
            tag = _HEADING_TAGS[len(heading.group(1))]
            out.append(f"<{tag}>{_inline(heading.group(2))}</{tag}>")
        elif bullet or numbered:
            close_paragraph()
            wanted = "ul" if bullet else "ol"
            if list_tag != wanted:
                close_list()
                out.append(f"<{wanted}>")
                list_tag = wanted
            item = (bullet or numbered).group(1)  # type: ignore[union-attr]
            out.append(f"<li>{_inline(item)}</li>")
        else:
            close_list()
            paragraph.append(_inline(line))
    close_paragraph()
    close_list()
    return Markup("\n".join(out))  # noqa: S704  (every piece was escaped above)
