"""Per-section filtering by the one policy, with an access record per decision; the family
sees only approved sections shared with them."""

from __future__ import annotations

from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.demo import stable_id
from tests.consent.test_portal import JEUGDHULP, add_participant, give, record_signed
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


def behaviour_only_for_youth_care(running: Running) -> None:
    """Jeugdhulp joins the demo case; both parents and Sam consent to behaviour only."""
    add_participant(running, CASE_ID, "Youssef El Amrani")
    for parent in ("ouder1", "ouder2"):
        give(logged_in(running, parent), CASE_ID, ["behaviour"], [JEUGDHULP])
    record_signed(logged_in(running, "ib"), CASE_ID, "child", ["behaviour"], [JEUGDHULP])


def records(running: Running, persona: str, event_type: str) -> list[AccessRecord]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord).where(
            AccessRecord.user_id == stable_id("person", persona),
            AccessRecord.event_type == event_type).order_by(AccessRecord.seq)))


def test_each_reader_sees_the_sections_the_policy_allows(running: Running) -> None:
    behaviour_only_for_youth_care(running)
    writer = logged_in(running, "notulist")
    save(writer, section("Schoolvoortgang", "Leest op niveau E5.", shared=True),
         section("Gedrag", "Minder conflicten op het plein.", categories=("behaviour",)),
         section("Gezondheid", "Slaapt slecht.", categories=("social_emotional",)))
    keys = keys_by_heading(running, 1, ["progress", "behaviour", "health"])

    worker = logged_in(running, "jeugdhulp")
    page = worker.page(MINUTES)
    assert page.status_code == 200
    assert "Minder conflicten op het plein." in page.text
    assert "Leest op niveau" not in page.text and "Schoolvoortgang" not in page.text
    assert "Slaapt slecht" not in page.text and "Gezondheid" not in page.text
    assert "2 onderdelen vallen buiten uw toestemming" in page.text

    # One record per section decision, allowed and denied, naming section and version.
    decided = records(running, "jeugdhulp", "minutes.view.section")
    assert [(r.object_id, r.outcome) for r in decided] == [
        (keys["progress"], "denied"), (keys["behaviour"], "allowed"),
        (keys["health"], "denied")]
    assert [r.data_categories for r in decided] == ["school_progress", "behaviour",
                                                    "social_emotional"]
    assert all(r.case_id == CASE_ID and r.document_version == 1 and r.action_code == "R"
               for r in decided)
    assert decided[1].consent_present and decided[0].reason
    (opened,) = records(running, "jeugdhulp", "minutes.view")
    assert opened.outcome == "allowed" and opened.object_type == "case"

    # The family sees nothing before approval, then only the shared section.
    mother = logged_in(running, "ouder1")
    family = mother.page(f"/family/cases/{CASE_ID}")
    assert "Leest op niveau" not in family.text
    assert "Er is nog niets uit de overleggen met u gedeeld." in family.text
    # The chair approves only what she can read: Sam's own consent (youth care now)
    # must name her school for every section first.
    record_signed(logged_in(running, "ib"), CASE_ID, "child",
                  ["school_progress", "behaviour", "social_emotional"],
                  [f"org:{stable_id('org', 'het-baken')}"])
    submit_and_approve(running, writer, 1)
    family = mother.page(f"/family/cases/{CASE_ID}")
    assert "Leest op niveau E5." in family.text
    assert "Minder conflicten" not in family.text and "Slaapt slecht" not in family.text
    assert "Dit is wat er is gebeurd" in family.text
    shown = records(running, "ouder1", "minutes.family.section")
    assert [(r.object_id, r.outcome) for r in shown] == [
        (keys["progress"], "allowed"), (keys["behaviour"], "denied"),
        (keys["health"], "denied")]
    # The family has no professional pages of the minutes.
    assert mother.get(MINUTES).status_code == 403


def test_a_later_unapproved_version_does_not_reach_the_family(running: Running) -> None:
    writer = logged_in(running, "notulist")
    save(writer, section("Schoolvoortgang", "Versie een.", shared=True))
    submit_and_approve(running, writer, 1)
    key = keys_by_heading(running, 1, ["progress"])["progress"]
    save(writer, section("Schoolvoortgang", "Versie twee.", shared=True, key=key))
    family = logged_in(running, "ouder1").page(f"/family/cases/{CASE_ID}")
    assert "Versie een." in family.text and "Versie twee." not in family.text


def test_outsiders_and_unknown_meetings_get_404(running: Running) -> None:
    outsider = logged_in(running, "buitenstaander")
    assert outsider.get(MINUTES).status_code == 404
    ib = logged_in(running, "ib")
    assert ib.get(MINUTES.replace(MEETING_ID, stable_id("x", "nothing"))).status_code == 404
    assert ib.get("/meetings/not-an-id/minutes").status_code == 404
