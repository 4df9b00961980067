"""A case from creation to closing, over real HTTP on both engines."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.audit.models import AccessRecord
from tests.harness import Running

CASE_URL = re.compile(r"/cases/([0-9a-f-]{36})$")


def create_case(running: Running, persona: str = "ib", title: str = "MDO Sam gedrag") -> str:
    client = running.client()
    client.login(persona)
    form = client.page("/cases/new")
    child_id = re.search(r'<option value="([0-9a-f-]{36})"[^>]*>Sam Mulder</option>',
                         form.text).group(1)  # type: ignore[union-attr]
    response = client.submit("/cases", {"child_id": child_id, "title": title,
                                        "purpose": "Ondersteuning afstemmen",
                                        "legal_basis": "consent"})
    assert response.status_code == 200
    match = CASE_URL.search(str(response.url))
    assert match, response.url
    return match.group(1)


def test_mentor_creates_case_and_youth_care_worker_sees_it(running: Running) -> None:
    mentor = running.client()
    mentor.login("mentor")
    form = mentor.page("/cases/new")
    assert "Sam Mulder" in form.text
    child_id = re.search(r'<option value="([0-9a-f-]{36})"[^>]*>Sam Mulder', form.text).group(1)  # type: ignore[union-attr]
    created = mentor.submit("/cases", {"child_id": child_id, "title": "Zorgen over Sam",
                                       "purpose": "Hulpvraag verduidelijken",
                                       "legal_basis": "consent"})
    assert created.status_code == 200
    case_path = CASE_URL.search(str(created.url)).group(0)  # type: ignore[union-attr]
    assert "Zorgen over Sam" in created.text and "Hulpvraag verduidelijken" in created.text

    youssef = re.search(r'<option value="([0-9a-f-]{36})">Youssef El Amrani', created.text)
    assert youssef, "the youth-care worker is offered as a participant"
    fields = {"person_id": youssef.group(1), "case_role": "participant"}
    preview = mentor.submit(f"{case_path}/participants", fields, htmx=True)
    assert "Controleer het gevolg" in preview.text, "the youth-care worker changes the setting"
    added = mentor.submit(f"{case_path}/participants", {**fields, "confirm": "1"}, htmx=True)
    assert added.status_code == 200
    assert "<html" not in added.text, "htmx gets the fragment, not the page"
    assert "Youssef El Amrani" in added.text

    worker = running.client()
    worker.login("jeugdhulp")
    listing = worker.page("/cases")
    assert "Zorgen over Sam" in listing.text
    assert worker.page(case_path).status_code == 200

    outsider = running.client()
    outsider.login("buitenstaander")
    denied = outsider.get(case_path)
    assert denied.status_code == 404
    assert "Zorgen over Sam" not in denied.text and "Sam Mulder" not in denied.text


def test_every_case_read_leaves_one_access_record(running: Running) -> None:
    case_id = create_case(running)
    outsider = running.client()
    outsider.login("buitenstaander")
    outsider.get(f"/cases/{case_id}")
    with running.portal.sessions() as db:
        rows = db.execute(
            select(AccessRecord.event_type, AccessRecord.outcome, AccessRecord.reason,
                   AccessRecord.user_name)
            .where(AccessRecord.case_id == case_id, AccessRecord.event_type == "case.view")
            .order_by(AccessRecord.occurred_at)
        ).all()
    assert [(r.outcome, r.user_name) for r in rows] == [
        ("allowed", "Ilse Bakker"), ("denied", "Olga Peters")]
    assert rows[1].reason == "not_a_participant"


def test_closed_case_refuses_changes(running: Running) -> None:
    case_id = create_case(running)
    chair = running.client()
    chair.login("ib")
    chair.page(f"/cases/{case_id}")
    asked = chair.submit(f"/cases/{case_id}/close")
    assert asked.status_code == 200 and 'name="confirm" value="1"' in asked.text
    assert "Deze casus afsluiten?" in asked.text, "asked first, nothing closed yet"
    assert chair.submit(f"/cases/{case_id}/close", {"confirm": "1"}).status_code == 200
    refused = chair.submit(f"/cases/{case_id}/close", {"confirm": "1"})
    assert refused.status_code == 403
    with running.portal.sessions() as db:
        count = db.scalar(select(func.count()).select_from(AccessRecord).where(
            AccessRecord.case_id == case_id, AccessRecord.reason == "case_closed"))
    assert count == 1
