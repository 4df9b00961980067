"""The breach register as CSV and PDF, for the FG's own organisations only.

Each exported breach is an access record of its own (``breach.export``) before
its text is opened. Times are Dutch time. The CSV writes control characters
as escapes and defuses spreadsheet formulas (as the access-log export does);
the PDF is Dutch, in fpdf2's core font (latin-1), watermarked with the
reader's name and the time, like the minutes PDF.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from portal.audit.export import visible
from portal.audit.service import Requester, record
from portal.breaches.models import Breach
from portal.breaches.service import BreachView, FgLogin, fg_gate, rows, view
from portal.localtime import LOCAL_TIME, local_time
from portal.minutes.pdf import _WatermarkedPdf, latin1
from portal.policy import Actor
from portal.vault.service import Vault

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
AP = {"notify": "melden", "no_notify": "niet melden"}
FAMILY = {"inform": "informeren", "no_inform": "niet informeren"}
COLUMNS = ("kenmerk", "organisatie", "gemeld door partner", "gemeld op", "ontdekt op",
           "termijn 72 uur", "te laat", "wat er gebeurde", "hoe ontdekt", "beoordeling",
           "besluit AP", "redenen AP", "besluit AP op", "besluit families",
           "redenen families", "besluit families op", "kinderen", "zaken")


@dataclass(frozen=True)
class Export:
    content: bytes
    filename: str
    media_type: str


def _views(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
           login: FgLogin, fmt: str) -> list[BreachView]:
    decision, _ = fg_gate(db, who, actor, now, login, event_type="breach.export", action="read")
    listed = rows(db, actor, now)
    for row in listed:  # every breach on record before any text is opened
        record(db, who, now, event_type="breach.export", action="read", decision=decision,
               object_type="breach", object_id=row.id, query=f"format={fmt}")
    return [view(db, vault, actor, now, db.get_one(Breach, row.id)) for row in listed]


def _when(value: datetime | None) -> str:
    return local_time(value) if value is not None else ""


def _cells(v: BreachView) -> list[str]:
    r = v.row
    return [r.id[:8], r.organisation, r.origin_organisation or "", _when(r.reported_at),
            _when(r.discovered_at), _when(r.deadline), "ja" if r.overdue else "nee",
            v.what or "", v.how or "", v.assessment or "",
            AP.get(r.ap_decision or "", ""), v.ap_reasons or "", _when(v.ap_decided_at),
            FAMILY.get(r.family_decision or "", ""), v.family_reasons or "",
            _when(v.family_decided_at), str(r.children), str(r.cases)]


def _csv_cell(text: str) -> str:
    shown = visible(text)
    return "'" + shown if shown.startswith(FORMULA_START) else shown


def export_csv(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
               login: FgLogin) -> Export:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for v in _views(db, vault, who, actor, now, login, "csv"):
        writer.writerow([_csv_cell(c) for c in _cells(v)])
    local = now.astimezone(LOCAL_TIME)
    return Export(out.getvalue().encode("utf-8"), f"datalekregister-{local:%Y%m%d%H%M}.csv",
                  "text/csv; charset=utf-8")


def export_pdf(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
               login: FgLogin) -> Export:
    views = _views(db, vault, who, actor, now, login, "pdf")
    local = now.astimezone(LOCAL_TIME)
    pdf = _WatermarkedPdf(f"{actor.name} - {local:%d-%m-%Y %H:%M}")
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 9, "Register van datalekken", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 6, latin1(f"Uitgedraaid op {local:%d-%m-%Y %H:%M} (Nederlandse tijd); "
                                f"{len(views)} datalek(ken)."), new_x="LMARGIN", new_y="NEXT")
    for v in views:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 12)
        title = f"Datalek {v.row.id[:8]} - {v.row.organisation}"
        pdf.multi_cell(0, 7, latin1(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for label, value in zip(COLUMNS[2:], _cells(v)[2:], strict=True):
            if value:
                pdf.multi_cell(0, 5, latin1(f"{label}: {value}"), new_x="LMARGIN",
                               new_y="NEXT")
    return Export(bytes(pdf.output()), f"datalekregister-{local:%Y%m%d%H%M}.pdf",
                  "application/pdf")
