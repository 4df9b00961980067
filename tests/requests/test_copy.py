"""The inspection copy: assembled as the requester may see it, reviewed, released, downloaded."""

from __future__ import annotations

import io
import json

from fhir.resources.R4B.consent import Consent
from pypdf import PdfReader
from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.demo import DEMO_CASE, stable_id
from portal.requests.models import SubjectRequest
from tests.consent.test_portal import logged_in
from tests.documents.helpers import CASE_ID, upload
from tests.harness import Running
from tests.requests.test_desk import SAM, file, request_id_of

MOTHER = stable_id("person", "ouder1")


def test_the_fg_reviews_and_releases_the_copy_and_the_parent_downloads_it(
        running: Running) -> None:
    mother = logged_in(running, "ouder1")
    request_id = request_id_of(file(mother, SAM, description="Graag een kopie."))
    assert mother.get(f"/family/requests/{request_id}/copy.pdf").status_code == 404

    fg = logged_in(running, "fg")
    fg.page(f"/dpo/requests/{request_id}")
    review = fg.submit(f"/dpo/requests/{request_id}/copy")
    assert review.status_code == 200, review.text
    assert review.url.path == f"/dpo/requests/{request_id}/copy"
    assert DEMO_CASE.title in review.text and "Vrijgeven aan de verzoeker" in review.text
    with running.portal.sessions() as db:
        # The FG read the family pages' content for the mother: on record as such.
        reads = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "family.case.content",
            AccessRecord.user_id == stable_id("person", "fg"))).all()
        assert reads and all(r.on_behalf_of_id == MOTHER for r in reads)
        sealed = db.get_one(SubjectRequest, request_id).copy_ct or b""
    assert sealed and DEMO_CASE.title.encode() not in sealed
    assert mother.get(f"/family/requests/{request_id}/copy.json").status_code == 404

    released = fg.submit(f"/dpo/requests/{request_id}/copy/release")
    assert released.status_code == 200 and "De kopie is vrijgegeven" in released.text
    page = mother.page(f"/family/requests/{request_id}")
    assert "Downloaden als pdf" in page.text and "Kopie vrijgegeven" in page.text

    pdf = mother.get(f"/family/requests/{request_id}/copy.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Sam Mulder" in text and "Wie heeft de gegevens van het kind ingezien" in text
    assert "zorgen over gedrag en werkhouding" in text
    exported = mother.get(f"/family/requests/{request_id}/copy.json")
    assert exported.status_code == 200
    content = json.loads(exported.content)
    assert content["format"] == "mdo-portaal-inzage/1" and content["child"] == "Sam Mulder"
    assert [c["title"] for c in content["cases"]] == [DEMO_CASE.title]
    assert content["access_log"], "the child's access log is part of the copy"
    fhir = [Consent.model_validate(resource) for resource in content["consents_fhir"]]
    assert len(fhir) == sum(len(case["consents"]) for case in content["cases"]) > 0
    assert {c.patient.identifier.value for c in fhir} == {SAM}  # type: ignore[union-attr]
    assert all(c.provision is not None and c.provision.type == "permit" for c in fhir)
    assert set(content["documentation"]) >= {"cases", "access_log", "consents_fhir"}
    with running.portal.sessions() as db:
        downloads = db.scalars(select(AccessRecord.event_type).where(
            AccessRecord.user_id == MOTHER, AccessRecord.object_id == request_id,
            AccessRecord.outcome == "allowed")).all()
    assert {"request.copy.pdf", "request.copy.json"} <= set(downloads)


def test_only_inspection_and_portability_get_a_copy(running_sqlite: Running) -> None:
    request_id = request_id_of(file(logged_in(running_sqlite, "ouder1"), SAM, "erasure"))
    fg = logged_in(running_sqlite, "fg")
    fg.page(f"/dpo/requests/{request_id}")
    refused = fg.submit(f"/dpo/requests/{request_id}/copy")
    assert refused.status_code == 400 and "Alleen bij een verzoek om inzage" in refused.text
    assert fg.submit(f"/dpo/requests/{request_id}/copy/release").status_code == 400


def test_the_fg_sees_what_stays_out_and_why_and_the_export_does_not(
        running_sqlite: Running) -> None:
    running = running_sqlite
    chair = logged_in(running, "ib")
    assert upload(chair, b"verslag van de jeugdarts", "jeugdarts.txt").status_code == 200
    mother = logged_in(running, "ouder1")
    request_id = request_id_of(file(mother, SAM, description="Graag een kopie."))
    fg = logged_in(running, "fg")
    fg.page(f"/dpo/requests/{request_id}")
    review = fg.submit(f"/dpo/requests/{request_id}/copy")
    assert "Niet in de kopie opgenomen, en waarom" in review.text
    assert "Documenten staan niet in de kopie" in review.text  # the upload, counted
    assert "niet de namen van medewerkers" in review.text
    fg.submit(f"/dpo/requests/{request_id}/copy/release")
    content = json.loads(mother.get(f"/family/requests/{request_id}/copy.json").content)
    assert "review" not in content and "Documenten staan niet" not in json.dumps(content)
    case = next(c for c in content["cases"] if c["id"] == CASE_ID)
    assert case["meetings"], "the meetings of a case the mother fully sees: date and status"
    assert set(case["meetings"][0]) == {"starts_at", "status"}
    pdf = mother.get(f"/family/requests/{request_id}/copy.pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Overleg op" in text and "Documenten staan niet" not in text
