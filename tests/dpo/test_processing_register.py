"""The register of processing per organisation: generated, versioned, edited by the org's FG."""

from __future__ import annotations

import io
import json

from pypdf import PdfReader
from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.cases.models import CaseParticipant, CaseRole
from portal.demo import stable_id
from portal.dpo.models import ProcessingRegisterVersion
from portal.retention.models import CountedFrom, DataKind, RetentionPolicy
from tests.dpo.test_fg_scope import BAKEN, build, case_id, fg_client
from tests.harness import Running

PAGE = f"/organisations/{BAKEN}/processing-register"
AGREEMENTS = "Verwerkersovereenkomst met Hosting B.V., getekend 12-01-2026"
DPIA = "DPIA-2026-07"


def versions(running: Running) -> list[ProcessingRegisterVersion]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(ProcessingRegisterVersion).where(
            ProcessingRegisterVersion.organisation_id == BAKEN)
            .order_by(ProcessingRegisterVersion.version)))


def test_the_fg_reads_edits_and_exports_the_register(running: Running) -> None:
    build(running)
    fg = fg_client(running, "schoolleider")  # the FG of Het Baken
    page = fg.page(PAGE)
    assert page.status_code == 200
    assert "Register van verwerkingen" in page.text
    assert "Jeugdhulp Noord" in page.text  # the partner of the shared case
    assert "Basisschool Het Lichtpunt" not in page.text
    assert "Vitaal belang" in page.text and "Toestemming" in page.text  # grounds in use
    assert "Gezondheid" in page.text and "Sleutelbeheer" in page.text
    assert "Sam" not in page.text  # kinds, never a child
    assert [v.version for v in versions(running)] == [1]

    too_long = fg.submit(PAGE, {"processor_agreements": AGREEMENTS, "dpia_reference": "x" * 201})
    assert too_long.status_code == 400 and "te lang" in too_long.text
    saved = fg.submit(PAGE, {"processor_agreements": AGREEMENTS, "dpia_reference": DPIA})
    assert saved.status_code == 200 and str(saved.url).endswith(PAGE)
    assert AGREEMENTS in saved.text
    fg.page(PAGE)  # nothing changed: no new version
    assert [v.version for v in versions(running)] == [1, 2]

    exported = fg.get(f"{PAGE}.json")
    assert exported.status_code == 200
    body = json.loads(exported.text)
    assert body["version"] == 2 and body["entered"]["dpia_reference"] == DPIA
    assert [r["name"] for r in body["recipients"]] == ["Jeugdhulp Noord"]
    assert {"consent", "vital_interest"} <= {g["code"] for g in body["legal_grounds"]}
    assert body["organisation"]["id"] == BAKEN
    first = json.loads(fg.get(f"{PAGE}.json?version=1").text)
    assert first["version"] == 1 and first["entered"]["dpia_reference"] == ""
    assert fg.get(f"{PAGE}.json?version=9").status_code == 404

    pdf = fg.get(f"{PAGE}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Register van verwerkingen" in text and DPIA in text
    assert "Jeugdhulp Noord" in text and "versie 2" in text

    # The configuration changes (a new partner joins a case): the register follows.
    with running.portal.sessions.begin() as db:
        db.add(CaseParticipant(case_id=case_id("baken-intern"),
                               person_id=stable_id("person", "ib-lichtpunt"),
                               organisation_id=stable_id("org", "het-lichtpunt"),
                               case_role=CaseRole.PARTICIPANT, added_at=running.clock(),
                               added_by=stable_id("person", "ib")))
    body = json.loads(fg.get(f"{PAGE}.json").text)
    assert body["version"] == 3 and body["entered"]["dpia_reference"] == DPIA
    assert [r["name"] for r in body["recipients"]] == ["Basisschool Het Lichtpunt",
                                                       "Jeugdhulp Noord"]
    assert "nog geen termijn bevestigd" in body["retention"][1]["period"]
    # The board confirms a retention period (portal.retention): the register names it.
    with running.portal.sessions.begin() as db:
        db.add(RetentionPolicy(organisation_id=BAKEN, data_kind=DataKind.CASE_FILE,
                               period_months=24, counted_from=CountedFrom.PUPIL_LEFT,
                               confirmed_at=running.clock(),
                               confirmed_by=stable_id("person", "beheerder")))
    body = json.loads(fg.get(f"{PAGE}.json").text)
    assert body["version"] == 4
    assert body["retention"][1]["period"].startswith(
        "24 maanden na het vertrek van de leerling")
    with running.portal.sessions() as db:
        events = db.scalars(select(AccessRecord.event_type).where(
            AccessRecord.user_id == stable_id("person", "schoolleider"),
            AccessRecord.event_type.like("processing_register.%"),
            AccessRecord.outcome == "allowed")).all()
    assert {"processing_register.read", "processing_register.update",
            "processing_register.export.json", "processing_register.export.pdf"} <= set(events)


def test_another_organisations_fg_gets_404(running_sqlite: Running) -> None:
    build(running_sqlite)
    other = fg_client(running_sqlite, "buitenstaander")  # the FG of Het Lichtpunt
    for path in (PAGE, f"{PAGE}.json", f"{PAGE}.pdf"):
        assert other.get(path).status_code == 404, path
    assert other.submit(PAGE, {"dpia_reference": DPIA}).status_code == 404
    assert other.page(f"/organisations/{stable_id('org', 'het-lichtpunt')}"
                      "/processing-register").status_code == 200
    colleague = fg_client(running_sqlite, "ib")  # Het Baken, but not its FG
    assert colleague.get(PAGE).status_code == 403
    assert versions(running_sqlite) == []
    with running_sqlite.portal.sessions() as db:
        refused = db.scalars(select(AccessRecord.user_id).where(
            AccessRecord.event_type.like("processing_register.%"),
            AccessRecord.outcome == "denied")).all()
    assert set(refused) == {stable_id("person", "buitenstaander"), stable_id("person", "ib")}


def test_the_supervisor_reads_but_does_not_edit(running_sqlite: Running) -> None:
    build(running_sqlite)
    supervisor = fg_client(running_sqlite, "fg")
    page = supervisor.page(PAGE)
    assert page.status_code == 200 and 'name="dpia_reference"' not in page.text
    assert supervisor.submit(PAGE, {"dpia_reference": DPIA}).status_code == 404
    with running_sqlite.portal.sessions() as db:
        read = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "processing_register.read",
            AccessRecord.outcome == "allowed")).one()
    assert "supervision:" in (read.basis or "")


def test_the_menu_leads_each_fg_to_their_registers(running_sqlite: Running) -> None:
    build(running_sqlite)
    fg = fg_client(running_sqlite, "schoolleider")
    start = fg.page("/audit")
    assert 'href="/dpo/processing-register"' in start.text
    only = fg.get("/dpo/processing-register")
    assert only.status_code == 200 and str(only.url).endswith(PAGE)
    supervisor = fg_client(running_sqlite, "fg")
    every = supervisor.page("/dpo/processing-register")
    assert every.status_code == 200
    assert PAGE in every.text and "Jeugdhulp Noord" in every.text
    mentor = fg_client(running_sqlite, "mentor")
    assert 'href="/dpo/processing-register"' not in mentor.page("/cases").text
    assert mentor.get("/dpo/processing-register").status_code == 403
