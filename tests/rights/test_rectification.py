"""Rectification by the family through the pages: a fact correction that the chair decides,
and a statement attached to an opinion, shown wherever the opinion is shown."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.cases.gate import case_facts
from portal.demo import stable_id
from portal.minutes.models import CorrectionStatus, MinutesCorrection
from portal.policy import Action, ItemFacts, decide
from portal.rights.models import FamilyStatement
from portal.web.endpoint import _load_actor
from tests.harness import Running
from tests.minutes.helpers import (
    CASE_ID,
    MEETING_ID,
    MINUTES,
    keys_by_heading,
    logged_in,
    save,
    section,
    submit_and_approve,
)

FAMILY = f"/family/cases/{CASE_ID}"
FACT = "Sam kwam in oktober 6 keer te laat."
OPINION = "Sam lijkt zich op school niet veilig te voelen."
STATEMENT = "Wij zien thuis een kind dat graag naar school gaat; de onrust komt door de busrit."


def reads_section(running: Running, persona: str, section_key: str) -> bool:
    """The policy's answer for this section with the facts the portal loads."""
    with running.portal.sessions() as db:
        actor = _load_actor(db, stable_id("person", persona))
        facts = case_facts(db, CASE_ID, running.portal.vault, running.clock())
        assert actor is not None and facts is not None
        return decide(actor, Action.ITEM_READ, facts, ItemFacts(
            "minutes_section", section_key, frozenset({"school_progress"}))).allowed


def approved_minutes(running: Running) -> dict[str, str]:
    writer = logged_in(running, "notulist")
    save(writer, section("Aanwezigheid", FACT, shared=True),
         section("Welbevinden", OPINION, nature="opinion", categories=("social_emotional",),
                 shared=True))
    submit_and_approve(running, writer, 1)
    return keys_by_heading(running, 1, ["Aanwezigheid", "Welbevinden"])


def test_a_parent_corrects_a_fact_and_the_chair_accepts_it(running_sqlite: Running) -> None:
    running = running_sqlite
    keys = approved_minutes(running)
    mother = logged_in(running, "ouder1")
    page = mother.page(FAMILY)
    assert FACT in page.text and f'id="text-{keys["Aanwezigheid"]}"' in page.text
    # The opinion offers a statement, not a correction.
    assert f'id="text-{keys["Welbevinden"]}"' not in page.text
    assert f'id="statement-{keys["Welbevinden"]}"' in page.text

    missing = mother.submit(f"{FAMILY}/rectifications", {
        "meeting_id": MEETING_ID, "section": keys["Aanwezigheid"], "text": "x", "reason": ""})
    assert missing.status_code == 400
    assert f'id="reason-{keys["Aanwezigheid"]}-error"' in missing.text
    sent = mother.submit(f"{FAMILY}/rectifications", {
        "meeting_id": MEETING_ID, "section": keys["Aanwezigheid"],
        "text": "Sam kwam in oktober 2 keer te laat.",
        "reason": "Vier keer was de bus te laat; dat staat in de absentenlijst."})
    assert sent.status_code == 200
    assert "Wacht op het besluit van de voorzitter." in sent.text
    # The disputed section is restricted while the chair verifies it; she still reads it.
    assert not reads_section(running, "mentor", keys["Aanwezigheid"])
    assert reads_section(running, "ib", keys["Aanwezigheid"])
    mentor_case = logged_in(running, "mentor").page(f"/cases/{CASE_ID}")
    assert "Voor een deel van deze casus geldt een beperking" in mentor_case.text
    assert FACT not in logged_in(running, "mentor").page(MINUTES).text

    # The chair sees it among the corrections and accepts it.
    chair = logged_in(running, "ib")
    minutes = chair.page(MINUTES)
    assert "Sam kwam in oktober 2 keer te laat." in minutes.text
    with running.portal.sessions() as db:
        correction = db.scalars(select(MinutesCorrection)).one()
        assert b"2 keer" not in correction.text_ct
    chair.submit(f"{MINUTES}/corrections/{correction.id}/accept")
    assert reads_section(running, "mentor", keys["Aanwezigheid"])
    outcome = mother.page(FAMILY)
    assert "Sam kwam in oktober 2 keer te laat." in outcome.text
    assert FACT not in outcome.text
    assert "Overgenomen" in outcome.text


def test_a_rejected_correction_shows_the_chairs_reason(running_sqlite: Running) -> None:
    running = running_sqlite
    keys = approved_minutes(running)
    pupil_parent = logged_in(running, "ouder2")
    pupil_parent.page(FAMILY)
    pupil_parent.submit(f"{FAMILY}/rectifications", {
        "meeting_id": MEETING_ID, "section": keys["Aanwezigheid"],
        "text": "Sam kwam nooit te laat.", "reason": "Dat klopt niet."})
    with running.portal.sessions() as db:
        correction = db.scalars(select(MinutesCorrection)).one()
    chair = logged_in(running, "ib")
    chair.page(MINUTES)
    assert not reads_section(running, "mentor", keys["Aanwezigheid"])
    chair.submit(f"{MINUTES}/corrections/{correction.id}/reject",
                 {"decision": "De absentenlijst telt zes keer te laat."})
    assert reads_section(running, "mentor", keys["Aanwezigheid"])
    page = pupil_parent.page(FAMILY)
    assert "De absentenlijst telt zes keer te laat." in page.text
    with running.portal.sessions() as db:
        assert db.get_one(MinutesCorrection, correction.id).status is CorrectionStatus.REJECTED


def test_an_opinion_gets_the_familys_statement_everywhere_it_is_shown(
        running_sqlite: Running) -> None:
    running = running_sqlite
    keys = approved_minutes(running)
    mother = logged_in(running, "ouder1")
    mother.page(FAMILY)
    # An opinion cannot be rectified, even by a hand-made request.
    refused = mother.submit(f"{FAMILY}/rectifications", {
        "meeting_id": MEETING_ID, "section": keys["Welbevinden"], "text": "Anders.",
        "reason": "Klopt niet."})
    assert refused.status_code == 400
    added = mother.submit(f"{FAMILY}/statements", {
        "meeting_id": MEETING_ID, "section": keys["Welbevinden"], "statement": STATEMENT})
    assert added.status_code == 200 and STATEMENT in added.text
    with running.portal.sessions() as db:
        stored = db.scalars(select(FamilyStatement)).one()
        assert STATEMENT.encode() not in stored.text_ct
    # Next to the opinion on the professionals' minutes page, and in the PDF.
    mentor = logged_in(running, "mentor")
    minutes = mentor.page(MINUTES)
    opinion_at = minutes.text.index(OPINION)
    assert minutes.text.index(STATEMENT) > opinion_at
    pdf = mentor.get(f"{MINUTES}/pdf")
    assert pdf.status_code == 200
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Zienswijze van de familie" in re.sub(r"\s+", " ", text)
    with running.portal.sessions() as db:
        reads = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "rights.statement.read")).all()
        assert {r.user_id for r in reads} >= {stored.person_id}
    # A statement on a fact is refused.
    fact = mother.submit(f"{FAMILY}/statements", {
        "meeting_id": MEETING_ID, "section": keys["Aanwezigheid"], "statement": STATEMENT})
    assert fact.status_code == 400


def test_a_parent_without_custody_cannot_rectify(running_sqlite: Running) -> None:
    running = running_sqlite
    keys = approved_minutes(running)
    outsider = logged_in(running, "pleegouder")  # no standing towards Sam
    outsider.page("/family")
    response = outsider.submit(f"{FAMILY}/rectifications", {
        "meeting_id": MEETING_ID, "section": keys["Aanwezigheid"], "text": "Anders.",
        "reason": "Klopt niet."})
    assert response.status_code == 404
    with running.portal.sessions() as db:
        assert db.scalars(select(MinutesCorrection)).first() is None
