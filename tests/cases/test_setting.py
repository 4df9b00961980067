"""The youth-care setting follows the people, and a change of it is previewed first.

A school social worker employed by the school itself makes Sam's case youth care
(DOMAIN.md: youth-care professionals are bound by the Jeugdwet whoever employs
them). Adding her shows the consequence and changes nothing until confirmed;
confirming records the change of setting and the case page names its cause;
her leaving is previewed and recorded in the same way.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.cases.models import Case, CaseParticipant
from portal.consent.engine import Setting
from portal.consent.facts import case_setting
from portal.demo import DEMO_CASE, stable_id
from portal.localtime import local_time
from portal.people.models import Membership, Role
from tests.consent.test_portal import reads
from tests.harness import PortalClient, Running

SAM_CASE = stable_id("case", DEMO_CASE.key)
SANNE = stable_id("person", "smw")
BAKEN = stable_id("org", "het-baken")
CAPACITY = f"{SANNE}|{BAKEN}|school_social_worker"


def _chair(running: Running) -> PortalClient:
    with running.portal.sessions() as db, db.begin():
        # Sanne is also employed by the school, as its school social worker.
        db.add(Membership(person_id=SANNE, organisation_id=BAKEN,
                          role=Role.SCHOOL_SOCIAL_WORKER))
    chair = running.client()
    chair.login("ib")
    return chair


def _setting(running: Running) -> Setting:
    with running.portal.sessions() as db:
        return case_setting(db, db.get_one(Case, SAM_CASE))


def _takes_part(running: Running) -> bool:
    with running.portal.sessions() as db:
        return db.scalar(select(CaseParticipant.id).where(
            CaseParticipant.case_id == SAM_CASE, CaseParticipant.person_id == SANNE)) is not None


def _setting_records(running: Running) -> list[str | None]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord.reason).where(
            AccessRecord.case_id == SAM_CASE, AccessRecord.event_type == "case.setting.change")
            .order_by(AccessRecord.seq)))


def test_the_school_employed_social_worker_makes_the_case_youth_care(running: Running) -> None:
    chair = _chair(running)
    assert _setting(running) is Setting.SCHOOL
    form = {"person_id": CAPACITY, "case_role": "participant"}

    preview = chair.submit(f"/cases/{SAM_CASE}/participants", form, htmx=True)
    assert preview.status_code == 200 and "<html" not in preview.text
    assert "Controleer het gevolg" in preview.text
    # The chair first, then the others, with what each loses until Sam consents.
    losses = preview.text.split('class="consequence-losses"', 1)[1].split("</ul>", 1)[0]
    assert "<li>u: Schoolvorderingen, Gedrag" in losses
    assert losses.index("<li>u:") < losses.index("Mila Smit:") < losses.index("Mirjam de Vries:")
    assert "jeugdhulp-setting" in preview.text
    assert "moet ook Sam Mulder (" in preview.text, "the child of 12-16 must also consent"
    assert 'id="confirm-change"' in preview.text and 'id="cancel-change"' in preview.text
    assert not _takes_part(running), "nothing changes before the confirmation"
    assert _setting(running) is Setting.SCHOOL and _setting_records(running) == []
    predicted = ("ib", "notulist", "mentor")
    assert all(reads(running, p, SAM_CASE, "behaviour") for p in predicted)

    done = chair.submit(f"/cases/{SAM_CASE}/participants", {**form, "confirm": "1"}, htmx=True)
    assert done.status_code == 200 and "Deelnemer toegevoegd" in done.text
    assert _takes_part(running) and _setting(running) is Setting.YOUTH_CARE
    assert _setting_records(running) == ["setting:youth_care"]
    # The preview told the truth: the policy now refuses what it said would be lost.
    assert not any(reads(running, p, SAM_CASE, c) for p in predicted
                   for c in ("school_progress", "behaviour", "social_emotional"))

    page = chair.page(f"/cases/{SAM_CASE}")
    assert "Jeugdhulp-setting sinds" in page.text
    assert "Sanne Visser (Schoolmaatschappelijk werker) neemt deel" in page.text
    # The banner: Sam's own consent is still missing, with the way to record it.
    banner = page.text.split('id="consent-banner"', 1)[1].split("</section>", 1)[0]
    assert "Sam Mulder" in banner and f'href="/cases/{SAM_CASE}/consent"' in banner
    assert "/invitations/children/" in banner


def test_her_leaving_is_previewed_and_recorded(running: Running) -> None:
    chair = _chair(running)
    chair.submit(f"/cases/{SAM_CASE}/participants",
                 {"person_id": CAPACITY, "case_role": "participant", "confirm": "1"})
    with running.portal.sessions() as db:
        participant = db.scalars(select(CaseParticipant.id).where(
            CaseParticipant.case_id == SAM_CASE, CaseParticipant.person_id == SANNE)).one()
    remove = f"/cases/{SAM_CASE}/participants/{participant}/remove"

    # Without script: a plain page with confirm and cancel; nothing removed yet.
    preview = chair.submit(remove)
    assert preview.status_code == 200 and "<html" in preview.text
    assert "weer onder de school-setting" in preview.text
    assert f'href="/cases/{SAM_CASE}" id="cancel-change"' in preview.text
    assert _takes_part(running) and _setting(running) is Setting.YOUTH_CARE

    chair.submit(remove, {"confirm": "1"})
    assert not _takes_part(running) and _setting(running) is Setting.SCHOOL
    assert _setting_records(running) == ["setting:youth_care", "setting:school"]
    assert "Jeugdhulp-setting sinds" not in chair.page(f"/cases/{SAM_CASE}").text


def test_a_change_without_consequence_needs_no_confirmation(running: Running) -> None:
    chair = _chair(running)
    leader = stable_id("person", "schoolleider")
    done = chair.submit(f"/cases/{SAM_CASE}/participants",
                        {"person_id": leader, "case_role": "observer"}, htmx=True)
    assert "Deelnemer toegevoegd" in done.text and "Controleer het gevolg" not in done.text
    assert _setting(running) is Setting.SCHOOL and _setting_records(running) == []


def test_choosing_a_youth_care_capacity_is_recorded_as_a_change_of_setting(
        running: Running) -> None:
    sanne = running.client()
    sanne.login("smw")
    with running.portal.sessions() as db, db.begin():
        db.add(Membership(person_id=SANNE, organisation_id=BAKEN, role=Role.MENTOR))
    chair = running.client()
    chair.login("ib")
    chair.submit(f"/cases/{SAM_CASE}/participants",
                 {"person_id": f"{SANNE}|{BAKEN}|mentor", "case_role": "participant"})
    assert _takes_part(running) and _setting(running) is Setting.SCHOOL
    noord = stable_id("org", "jeugdhulp-noord")
    running.clock.advance(minutes=5)
    sanne.submit(f"/cases/{SAM_CASE}/capacity", {"capacity": f"{noord}|school_social_worker"})
    assert _setting(running) is Setting.YOUTH_CARE
    assert _setting_records(running) == ["setting:youth_care"]
    # Since the change of capacity, not since she joined.
    with running.portal.sessions() as db:
        assert db.get_one(Case, SAM_CASE).youth_care_since == running.clock()
    since = local_time(running.clock(), "%d-%m-%Y")
    assert f"Jeugdhulp-setting sinds {since}: Sanne Visser" in chair.page(
        f"/cases/{SAM_CASE}").text


def _records(running: Running, case_id: str, event_type: str) -> list[tuple[str, str | None]]:
    with running.portal.sessions() as db:
        return [(r.outcome, r.reason) for r in db.scalars(select(AccessRecord).where(
            AccessRecord.case_id == case_id, AccessRecord.event_type == event_type)
            .order_by(AccessRecord.seq))]


def test_an_anonymous_case_turns_youth_care_without_a_question_but_not_silently(
        running: Running) -> None:
    chair = running.client()
    chair.login("ib")
    created = chair.submit("/cases", {"anonymous": "on", "title": "Anoniem overleg",
                                      "purpose": "Verkennen wat er speelt",
                                      "legal_basis": "consent"})
    case_id = str(created.url).rsplit("/", 1)[1]
    youssef = stable_id("person", "jeugdhulp")
    # No child, so no consent changes and nobody loses anything: no preview ...
    done = chair.submit(f"/cases/{case_id}/participants",
                        {"person_id": youssef, "case_role": "participant"}, htmx=True)
    assert "Deelnemer toegevoegd" in done.text and "Controleer het gevolg" not in done.text
    # ... but the change of setting is recorded and shown with its cause.
    assert _records(running, case_id, "case.setting.change") == [("allowed",
                                                                  "setting:youth_care")]
    assert "Youssef El Amrani (Jeugdhulpverlener) neemt deel" in chair.page(
        f"/cases/{case_id}").text


def test_only_the_chair_gets_a_preview(running: Running) -> None:
    mentor = running.client()
    mentor.login("mentor")  # a participant of Sam's case, not its chair
    refused = mentor.submit(f"/cases/{SAM_CASE}/participants",
                            {"person_id": stable_id("person", "jeugdhulp"),
                             "case_role": "participant"}, htmx=True)
    assert refused.status_code == 403
    assert "Sam Mulder (" not in refused.text and "Controleer het gevolg" not in refused.text
    assert ("denied", "insufficient_case_role") in _records(
        running, SAM_CASE, "case.participant.add")


def test_bad_input_is_refused_before_any_preview(running: Running) -> None:
    chair = running.client()
    chair.login("ib")
    youssef = stable_id("person", "jeugdhulp")
    for fields in ({"person_id": youssef, "case_role": "chair"},
                   {"person_id": f"{youssef}|{BAKEN}|mentor", "case_role": "participant"},
                   {"person_id": "not-an-id", "case_role": "participant"}):
        answer = chair.submit(f"/cases/{SAM_CASE}/participants", fields, htmx=True)
        assert answer.status_code == 400, fields
        assert "Controleer het gevolg" not in answer.text
    assert _setting(running) is Setting.SCHOOL and _setting_records(running) == []
