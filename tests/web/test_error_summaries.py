"""A refused form on these pages comes back with the shared error summary, not a line
naming no field: the title starts with "Fout:", and each entry leads to an element on
the page (its field, where the form has one)."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from portal.demo import DEMO_CASE, stable_id
from portal.rights.models import RestrictionNote
from tests.documents.helpers import CASE_PATH, legacy_minutes
from tests.harness import PortalClient, Running
from tests.meetings.test_meetings import schedule
from tests.minutes.helpers import MINUTES, save, section

SUMMARY = re.compile(r'<div class="error-summary"[^>]*>(.*?)</div>', re.S)
SAM_CASE = stable_id("case", DEMO_CASE.key)
BAKEN = stable_id("org", "het-baken")
SAM = stable_id("child", "sam")


def logged_in(running: Running, persona: str) -> PortalClient:
    client = running.client()
    client.login(persona)
    return client


def summary_targets(response: httpx.Response) -> list[str]:
    """The summary's link targets, after checking the page says it is an error page
    and that each target is an element on it."""
    assert response.status_code == 400, response.text
    body = response.text
    assert re.search(r"<title>Fout: ", body)
    for alert in ("Verbeter de velden die hieronder zijn gemarkeerd.", "Controleer de zoekvelden."):
        assert alert not in body, "no one-line alert"
    summary = SUMMARY.search(body)
    assert summary is not None, "an error summary"
    targets = re.findall(r'<a href="#([^"]+)">', summary.group(1))
    assert targets, "the summary names each problem"
    ids = re.findall(r'\sid="([^"]+)"', body)
    for target in targets:
        assert ids.count(target) == 1, f"#{target} is one element on the page"
    return targets


def fields(response: httpx.Response) -> set[str]:
    return set(re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', response.text))


def test_the_access_log_search(running_sqlite: Running) -> None:
    dpo = logged_in(running_sqlite, "fg")
    refused = dpo.get("/audit?date_from=gisteren&organisation=abc")
    targets = summary_targets(refused)
    assert {"date_from", "organisation"} == set(targets) and set(targets) <= fields(refused)
    # A page cursor is no field: its entry leads to its message.
    assert summary_targets(dpo.get("/audit?before=12x")) == ["before-error"]


def test_the_minutes_editor(running_sqlite: Running) -> None:
    writer = logged_in(running_sqlite, "notulist")
    refused = save(writer, section("", "Tekst zonder kop", categories=()))
    targets = summary_targets(refused)
    assert "s0_heading" in targets
    assert [t for t in targets if t.startswith("s0_category_")], "the first category box"
    assert set(targets) <= fields(refused)
    assert "Tekst zonder kop" in refused.text, "what was typed is kept"
    assert MINUTES in refused.text


def test_a_minutes_document(running_sqlite: Running) -> None:
    document_id = legacy_minutes(running_sqlite, "notulist", "MDO 3 december", "Tekst.",
                                 categories=("behaviour",))
    mentor = logged_in(running_sqlite, "mentor")
    mentor.page(f"{CASE_PATH}/documents/{document_id}")
    refused = mentor.submit(f"{CASE_PATH}/documents/{document_id}/versions",
                            {"title": "", "text": ""})
    targets = summary_targets(refused)
    assert {"title", "text"} == set(targets) and set(targets) <= fields(refused)


def test_the_agenda_categories(running_sqlite: Running) -> None:
    meeting_id = schedule(running_sqlite)
    chair = logged_in(running_sqlite, "ib")
    chair.page(f"/meetings/{meeting_id}/categories")
    refused = chair.submit(f"/meetings/{meeting_id}/categories", {"confirm": "1"})
    targets = summary_targets(refused)
    assert len(targets) == 1 and targets[0].startswith("change-category-")
    assert set(targets) <= fields(refused)


def test_the_register_forms(running_sqlite: Running) -> None:
    ib = logged_in(running_sqlite, "ib")
    ib.page(f"/register/{BAKEN}/children/new")
    refused = ib.submit(f"/register/{BAKEN}/children/new", {
        "leerlingnummer": "", "naam": "Tess Bos", "geboortedatum": "30-02-2016", "groep": ""})
    targets = summary_targets(refused)
    assert {"leerlingnummer", "geboortedatum"} == set(targets)
    assert set(targets) <= fields(refused)

    child = f"/register/{BAKEN}/children/{SAM}"
    ib.page(child)
    adult = ib.submit(f"{child}/adults", {"verzorger1_naam": "Tom Bos",
                                          "verzorger1_email": "tom@",
                                          "verzorger1_relatie": "ouder",
                                          "verzorger1_gezag": "ja"})
    assert summary_targets(adult) == ["verzorger1_email"]
    assert "verzorger1_email" in fields(adult)


def test_the_fgs_restriction_page(running_sqlite: Running) -> None:
    fg = logged_in(running_sqlite, "fg")
    path = f"/rights/cases/{SAM_CASE}"
    fg.page(path)
    empty = fg.submit(f"{path}/restrictions", {"reason": " "})
    assert summary_targets(empty) == ["reason"] and "reason" in fields(empty)

    placed = fg.submit(f"{path}/restrictions", {
        "reason": "Ouders maken bezwaar tegen het delen van het gedragsverslag."})
    assert placed.status_code == 200
    with running_sqlite.portal.sessions() as db:
        restriction_id = db.scalars(select(RestrictionNote.restriction_id)).one()
    short = fg.submit(f"{path}/restrictions/lift",
                      {"restriction_id": restriction_id, "lift_reason": "ok"})
    assert summary_targets(short) == [f"lift-reason-{restriction_id}"]
    assert f"lift-reason-{restriction_id}" in fields(short)
    again = fg.submit(f"{path}/restrictions", {"reason": "Nog een beperking, nu dubbel."})
    assert summary_targets(again) == ["history-heading"], "no form: its section"


def test_a_form_not_yet_sent_has_no_summary(running_sqlite: Running) -> None:
    page = logged_in(running_sqlite, "notulist").page(f"{MINUTES}/edit")
    assert page.status_code == 200 and SUMMARY.search(page.text) is None
    assert not re.search(r"<title>Fout: ", page.text)
