"""PDF export of minutes for one reader: only what they may see, watermarked on every page.

The sections are decided and recorded exactly as on screen (and the export
itself is an access record of its own, event type ``minutes.export``). Every
page carries the reader's name and the export time twice: diagonally across
the page in light grey, and in the footer. fpdf2's core fonts speak latin-1
only, so text is folded to it (typographic quotes and dashes to ASCII,
anything else to "?"); no system font is needed.

The words are the reader's language (the catalog, as on screen; labels from
``portal.web.labels``), and a section's text is the same safe Markdown subset
as on screen (``portal.documents.markdown``: escaped, then fixed tags), handed
to fpdf2's HTML writer, so ``**bold**`` and lists come out as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from fpdf import FPDF
from sqlalchemy.orm import Session

from portal.audit.service import Requester
from portal.documents import markdown
from portal.localtime import LOCAL_TIME
from portal.minutes.sections import SectionView
from portal.minutes.service import read_version
from portal.policy import Actor
from portal.rights.rectification import StatementView, statements_for
from portal.vault.service import Vault
from portal.web.i18n import gettext, ngettext
from portal.web.labels import label

_FOLD = str.maketrans({"\u2014": "-", "\u2013": "-", "\u2018": "'", "\u2019": "'",
                       "\u201c": '"', "\u201d": '"', "\u2026": "...", "\u2022": "-",
                       "\u00a0": " "})

def latin1(text: str) -> str:
    return text.translate(_FOLD).encode("latin-1", "replace").decode("latin-1")


@dataclass(frozen=True)
class Export:
    content: bytes
    filename: str


class _WatermarkedPdf(FPDF):
    def __init__(self, mark: str) -> None:
        super().__init__(format="A4")
        self.mark = latin1(mark)

    def header(self) -> None:
        # Drawn first on each page, so the text lies over it.
        self.set_font("Helvetica", "B", 28)
        self.set_text_color(215, 215, 215)
        with self.rotation(45, self.w / 2, self.h / 2):
            width = self.get_string_width(self.mark)
            self.text(self.w / 2 - width / 2, self.h / 2, self.mark)
        self.set_text_color(0, 0, 0)
        self.set_y(15)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(90, 90, 90)
        page = latin1(gettext("page %(number)s") % {"number": self.page_no()})
        self.cell(0, 8, f"{self.mark} - {page}", align="C")
        self.set_text_color(0, 0, 0)


def render(title: str, mark: str, sections: list[SectionView], hidden: int,
           statements: Mapping[str, list[StatementView]] | None = None) -> bytes:
    pdf = _WatermarkedPdf(mark)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 9, latin1(title), new_x="LMARGIN", new_y="NEXT")
    if hidden:
        pdf.set_font("Helvetica", "I", 10)
        pdf.multi_cell(0, 6, latin1(ngettext(
            "%(num)d section is outside your consent and was left out.",
            "%(num)d sections are outside your consent and were left out.",
            hidden) % {"num": hidden}), new_x="LMARGIN", new_y="NEXT")
    for section in sections:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 7, latin1(section.heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "I", 9)
        words = [label("minutes_kind", section.kind), label("nature", section.nature),
                 ", ".join(label("category", c) for c in section.categories)]
        pdf.multi_cell(0, 5, latin1("; ".join(words)), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        # Escaped first, then only fixed tags: no text ever becomes markup of its own.
        pdf.write_html(str(markdown.render(latin1(section.body))))
        pdf.set_x(pdf.l_margin)
        # The family's view stands next to the opinion it answers (portal.rights).
        for statement in (statements or {}).get(section.key, []):
            pdf.set_font("Helvetica", "I", 10)
            when = f"{statement.created_at.astimezone(LOCAL_TIME):%d-%m-%Y}"
            pdf.multi_cell(0, 6, latin1(gettext(
                "The family's view (%(author)s, %(date)s): %(text)s") % {
                    "author": statement.author, "date": when, "text": statement.text}),
                new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def export_pdf(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
               meeting_id: str, number: int | None = None) -> Export:
    g, _, chosen, views, hidden = read_version(db, vault, who, actor, now, meeting_id, number,
                                               event_type="minutes.export")
    local = now.astimezone(LOCAL_TIME)
    mark = f"{actor.name} - {local:%d-%m-%Y %H:%M}"
    starts = g.meeting.starts_at.astimezone(LOCAL_TIME)
    title = gettext("Minutes of the MDO of %(when)s") % {"when": f"{starts:%d-%m-%Y %H:%M}"}
    if chosen:
        title += ", " + gettext("version %(number)s (%(status)s)") % {
            "number": chosen.version, "status": label("minutes_status", chosen.status)}
    statements = statements_for(db, vault, who, now, g.facts.case_id, [v.key for v in views])
    return Export(content=render(title, mark, views, hidden, statements),
                  filename=f"{gettext('mdo-minutes')}-{starts:%Y%m%d}-{local:%Y%m%d%H%M}.pdf")
