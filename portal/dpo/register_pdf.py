"""The register of processing as a PDF (fpdf2, core fonts: text folded to latin-1)."""

from __future__ import annotations

from typing import Any

from fpdf import FPDF

from portal.dpo.models import ProcessingRegisterVersion
from portal.localtime import LOCAL_TIME
from portal.minutes.pdf import latin1

KINDS = {"school": "school", "youth_care": "jeugdhulp", "samenwerkingsverband":
         "samenwerkingsverband", "municipality": "gemeente", "portal": "beheerder van het portaal"}


class _RegisterPdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self.footer_text = latin1(footer_text)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 8, f"{self.footer_text} - pagina {self.page_no()}", align="C")
        self.set_text_color(0, 0, 0)


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.multi_cell(0, 7, latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)


def _items(pdf: FPDF, items: list[str]) -> None:
    for item in items or ["(geen)"]:
        pdf.multi_cell(0, 5.5, latin1(f"- {item}"), new_x="LMARGIN", new_y="NEXT")


def render(row: ProcessingRegisterVersion) -> bytes:
    content: dict[str, Any] = row.content
    organisation = content["organisation"]
    when = row.created_at.astimezone(LOCAL_TIME).strftime("%d-%m-%Y %H:%M")
    pdf = _RegisterPdf(f"Register van verwerkingen {organisation['name']}, versie {row.version}")
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 9, latin1(f"Register van verwerkingen (AVG art. 30): {organisation['name']}"),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 6, latin1(
        f"Versie {row.version}, vastgelegd op {when}. Verwerkingsverantwoordelijke: "
        f"{organisation['name']} ({KINDS.get(organisation['kind'], organisation['kind'])}). "
        f"Verwerking: het MDO-portaal."), new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, "Functionaris gegevensbescherming")
    _items(pdf, content["fg"])
    _heading(pdf, "Doeleinden")
    _items(pdf, content["purposes"])
    _heading(pdf, "Grondslagen in gebruik")
    _items(pdf, [g["text"] for g in content["legal_grounds"]])
    _heading(pdf, "Categorieen van betrokkenen")
    _items(pdf, content["people"])
    _heading(pdf, "Categorieen van persoonsgegevens")
    _items(pdf, [*content["identifying_data"], *(c["text"] for c in content["data_categories"])])
    _heading(pdf, "Ontvangers (partnerorganisaties in gedeelde casussen)")
    _items(pdf, [r["name"] for r in content["recipients"]])
    _heading(pdf, "Bewaartermijnen")
    _items(pdf, [f"{r['what']}: {r['period']}" for r in content["retention"]])
    _heading(pdf, "Beveiligingsmaatregelen")
    _items(pdf, content["security"])
    entered = content.get("entered", {})
    _heading(pdf, "Verwerkersovereenkomsten")
    _items(pdf, [entered.get("processor_agreements") or "(nog niet ingevuld)"])
    _heading(pdf, "DPIA")
    _items(pdf, [entered.get("dpia_reference") or "(nog niet ingevuld)"])
    return bytes(pdf.output())
