"""The inspection copy: what the requester may see about the child, for the FG to review.

Assembled with the family pages' own services, decided for the *requester*
(their standing, the consents, what the chair shared with parents), so the
copy holds exactly what the portal would show them: the cases (title and
purpose where their standing opens them), their meetings (date and status), the
consents, the approved minutes
sections shared with parents (facts and professional opinions alike: an
opinion may be inspected, only not rectified), and who looked at the child's
data. What the family pages do not show them (other people's internal
records, items not shared with parents, documents) stays out, and the copy says
so; the FG's review lists each withheld kind of item per case with its reason
(``portal.requests.withheld``), a list that never leaves in an export.

The FG reads it to review it, on behalf of the requester: every read is an
access record with the FG as reader and the requester as the one it is for.
The JSON is sealed under the request's key until the FG releases it; the
requester downloads it as JSON and as PDF, each download recorded.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from fpdf import FPDF
from sqlalchemy.orm import Session

from portal.audit.family import child_history
from portal.audit.service import Requester
from portal.minutes.family import family_minutes
from portal.minutes.pdf import latin1
from portal.parents.service import family_case, family_home
from portal.people.models import Person, PersonKind
from portal.people.names import name_of
from portal.policy import Actor
from portal.requests.clock import local_day
from portal.requests.models import SubjectRequest
from portal.requests.portability import with_fhir
from portal.requests.service import binding, request_key
from portal.requests.withheld import (
    MEETING_STATUS_NL,
    REVIEW_KEY,
    Withheld,
    for_case,
    for_export,
    meetings,
    review,
)
from portal.vault.service import Vault

FORMAT = "mdo-portaal-inzage/1"
ACCESS_LOG_DAYS = 366
WITHHELD = ("Niet opgenomen: interne aantekeningen van organisaties, onderdelen die niet met "
            "ouders zijn gedeeld, en persoonsgegevens van anderen dan het kind en de verzoeker.")


def _requester_actor(db: Session, vault: Vault, request: SubjectRequest) -> Actor:
    person = db.get_one(Person, request.requester_id)
    return Actor(person_id=person.id, kind=PersonKind.CITIZEN, name=name_of(db, vault, person))


def assemble(db: Session, vault: Vault, who: Requester, now: datetime,
             request: SubjectRequest) -> dict[str, Any]:
    """The copy as a JSON-ready dict; each read recorded for ``who`` on the requester's behalf."""
    actor = _requester_actor(db, vault, request)
    on_behalf = replace(who, on_behalf_of_id=actor.person_id)
    children = [c for c in family_home(db, vault, on_behalf, actor, now)
                if c.id == request.child_id]
    cases = []
    withheld: list[Withheld] = []
    for case in (children[0].cases if children else ()):
        if request.case_id is not None and case.id != request.case_id:
            continue
        page = family_case(db, vault, on_behalf, actor, now, case.id)
        shared = family_minutes(db, vault, on_behalf, actor, now, case.id)
        withheld += for_case(db, case.id, full=case.full,
                             sections_shown=sum(len(m.sections) for m in shared))
        cases.append({
            "id": case.id, "status": case.status.value, "title": case.title,
            "purpose": case.purpose, "organisations": list(case.organisations),
            "consents": [{"id": c.id, "given_at": c.given_at.isoformat(),
                          "consenter": c.consenter_name, "categories": list(c.categories),
                          "recipients": list(c.recipients),
                          "valid_from": c.valid_from.isoformat(),
                          "valid_until": c.valid_until.isoformat() if c.valid_until else None,
                          "state": c.state} for c in page.consents],
            "minutes": [{"meeting": m.starts_at.isoformat(),
                         "sections": [{"heading": s.heading, "body": s.body,
                                       "nature": s.nature.value,
                                       "categories": list(s.categories)}
                                      for s in m.sections]} for m in shared],
            "meetings": meetings(db, case.id) if case.full else [],
        })
    since = local_day(now) - timedelta(days=ACCESS_LOG_DAYS)
    history = child_history(db, vault, on_behalf, actor, now, request.child_id,
                            {"date_from": since.isoformat()}, frozenset())
    return {
        "format": FORMAT, "request": request.id, "child_id": request.child_id,
        "prepared_at": now.isoformat(),
        "child": children[0].name if children else history.child.name,
        "cases": cases,
        "access_log": [{"when": row.when.isoformat(), "organisation": row.organisation,
                        "roles": list(row.roles), "what": row.event_type,
                        "categories": list(row.categories), "basis": row.basis_kind,
                        "outcome": row.outcome, "break_glass": row.break_glass}
                       for row in history.rows],
        "withheld": WITHHELD,
        REVIEW_KEY: review(withheld, len(history.rows)),
    }


def seal(db: Session, vault: Vault, request: SubjectRequest, content: dict[str, Any]) -> None:
    request.copy_ct = vault.seal(request_key(db, vault, request),
                                 json.dumps(content, ensure_ascii=False), binding(request, "copy"))


def opened(db: Session, vault: Vault, request: SubjectRequest) -> dict[str, Any]:
    """The sealed copy; the caller has decided and recorded the read."""
    assert request.copy_ct is not None
    loaded: dict[str, Any] = json.loads(vault.open(db, request.copy_ct, binding(request, "copy"),
                                                   request_key(db, vault, request)))
    return loaded


def as_json(content: dict[str, Any]) -> bytes:
    """The machine-readable export: documented, with the consents as FHIR R4 resources."""
    documented = with_fhir(for_export(content), content["child_id"])
    return json.dumps(documented, ensure_ascii=False, indent=2).encode("utf-8")


def as_pdf(content: dict[str, Any]) -> bytes:
    """A readable PDF of the copy (fpdf2's core fonts: text folded to latin-1)."""
    content = for_export(content)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()

    def line(text: str, size: int = 11, style: str = "", height: int = 6) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(0, height, latin1(text), new_x="LMARGIN", new_y="NEXT")

    line(f"Inzage in de gegevens over {content['child']}", 16, "B", 9)
    line(f"Samengesteld op {content['prepared_at'][:10]}", 9, "I")
    for case in content["cases"]:
        pdf.ln(4)
        line(case["title"] or "MDO-casus (algemene informatie)", 13, "B", 7)
        if case["purpose"]:
            line(f"Doel: {case['purpose']}")
        line(f"Organisaties: {', '.join(case['organisations'])}; status: {case['status']}")
        for meeting in case.get("meetings", ()):
            status = MEETING_STATUS_NL.get(meeting["status"], meeting["status"])
            line(f"Overleg op {meeting['starts_at'][:10]} ({status})", 10)
        for consent in case["consents"]:
            line(f"Toestemming van {consent['consenter']} ({consent['state']}): "
                 f"{', '.join(consent['categories'])}, vanaf {consent['valid_from']}", 10)
        for minutes in case["minutes"]:
            line(f"Verslag van {minutes['meeting'][:10]}", 11, "B")
            for section in minutes["sections"]:
                line(f"{section['heading']} ({section['nature']})", 10, "B")
                line(section["body"], 10)
    pdf.ln(4)
    line("Wie heeft de gegevens van het kind ingezien", 13, "B", 7)
    for row in content["access_log"]:
        line(f"{row['when'][:16].replace('T', ' ')} - {row['organisation']} "
             f"({', '.join(row['roles'])}): {row['what']}, {row['outcome']}", 9, height=5)
    pdf.ln(4)
    line(content["withheld"], 9, "I")
    return bytes(pdf.output())
