"""PDF export of minutes for one reader: only what they may see, watermarked on every page.

The sections are decided and recorded exactly as on screen (and the export
itself is an access record of its own, event type ``minutes.export``). Every
page carries the reader's name and the export time twice: diagonally across
the page in light grey, and in the footer. fpdf2's core fonts speak latin-1
only, so text is folded to it (typographic quotes and dashes to ASCII,
anything else to "?"); no system font is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from fpdf import FPDF
from sqlalchemy.orm import Session

from portal.audit.service import Requester
from portal.localtime import LOCAL_TIME
from portal.minutes.sections import SectionView
from portal.minutes.service import read_version
from portal.policy import Actor
from portal.rights.rectification import StatementView, statements_for
from portal.vault.service import Vault

_FOLD = str.maketrans({"\u2014": "-", "\u2013": "-", "\u2018": "'", "\u2019": "'",
                       "\u201c": '"', "\u201d": '"', "\u2026": "...", "\u2022": "-",
                       "\u00a0": " "})

KIND_LABELS = {"discussion": "Bespreking", "agreements": "Afspraken", "outcome": "Uitkomst"}
NATURE_LABELS = {"fact": "feit", "opinion": "professionele mening"}


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
        self.cell(0, 8, f"{self.mark} - pagina {self.page_no()}", align="C")
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
        pdf.multi_cell(0, 6, f"{hidden} onderdeel/onderdelen vallen buiten uw toestemming "
                             "en zijn weggelaten.", new_x="LMARGIN", new_y="NEXT")
    for section in sections:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 7, latin1(section.heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "I", 9)
        pdf.multi_cell(0, 5, latin1(f"{KIND_LABELS[section.kind.value]}; "
                                    f"{NATURE_LABELS[section.nature.value]}; "
                                    f"{', '.join(section.categories)}"),
                       new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        # Sections are written with **bold** markers (e.g. "**Afspraak:**"): render them.
        pdf.multi_cell(0, 6, latin1(section.body), new_x="LMARGIN", new_y="NEXT",
                       markdown=True)
        # The family's view stands next to the opinion it answers (portal.rights).
        for statement in (statements or {}).get(section.key, []):
            pdf.set_font("Helvetica", "I", 10)
            pdf.multi_cell(0, 6, latin1(f"Zienswijze van de familie ({statement.author}, "
                                        f"{statement.created_at.astimezone(LOCAL_TIME):%d-%m-%Y}"
                                        f"): {statement.text}"),
                           new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# The PDF is in Dutch throughout; its status in the reader's words, not the code.
STATUS = {"draft": "concept", "submitted": "ter goedkeuring", "approved": "vastgesteld"}


def export_pdf(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
               meeting_id: str, number: int | None = None) -> Export:
    g, _, chosen, views, hidden = read_version(db, vault, who, actor, now, meeting_id, number,
                                               event_type="minutes.export")
    local = now.astimezone(LOCAL_TIME)
    mark = f"{actor.name} - {local:%d-%m-%Y %H:%M}"
    starts = g.meeting.starts_at.astimezone(LOCAL_TIME)
    version = f", versie {chosen.version} ({STATUS[chosen.status.value]})" if chosen else ""
    title = f"Verslag MDO {starts:%d-%m-%Y %H:%M}{version}"
    statements = statements_for(db, vault, who, now, g.facts.case_id, [v.key for v in views])
    return Export(content=render(title, mark, views, hidden, statements),
                  filename=f"verslag-mdo-{starts:%Y%m%d}-{local:%Y%m%d%H%M}.pdf")
