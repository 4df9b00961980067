"""The security review's findings on the structured minutes, each through the real routes:
a restored draft is decided section by section (F1), a section is decided on the facts of
its whole line (F2), anonymous cases get the identifier check (F3), accepting a correction
checks fact and line (F4), a refused submit/approve is not recorded as allowed (F6), and a
foster parent let in by a consent reads the shared sections it names."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import select

from portal.consent.models import IdentifierOverride, Restriction
from portal.demo import stable_id
from portal.minutes.models import MinutesDraft
from tests.consent._portal import org
from tests.consent.test_anonymous import CASE_URL, create_anonymous
from tests.consent.test_portal import JEUGDHULP, add_participant, give, record_signed
from tests.harness import Running
from tests.minutes.helpers import (
    CASE_ID,
    MINUTES,
    form,
    keys_by_heading,
    logged_in,
    save,
    section,
    submit_and_approve,
    versions,
)
from tests.minutes.test_owner_and_pupil import NOOR_CASE, schedule_noor_meeting
from tests.minutes.test_reading import records


def behaviour_for_youth_care_and_school(running: Running) -> None:
    """Jeugdhulp joins the demo case; parents and Sam consent to behaviour for jeugdhulp
    and the school (whose minute-taker must read a section to reclassify it)."""
    add_participant(running, CASE_ID, "Youssef El Amrani")
    recipients = [JEUGDHULP, f"org:{org('het-baken')}"]
    for parent in ("ouder1", "ouder2"):
        give(logged_in(running, parent), CASE_ID, ["behaviour"], recipients)
    record_signed(logged_in(running, "ib"), CASE_ID, "child", ["behaviour"], recipients)


def restrict_case(running: Running, case_id: str) -> None:
    """The DPO's restriction on the whole case (the row the consent tests place)."""
    with running.portal.sessions() as db:
        db.add(Restriction(case_id=case_id, placed_by=stable_id("person", "fg"),
                           placed_at=running.clock()))
        db.commit()


def test_a_restored_draft_is_not_shown_once_its_sections_are_restricted(
        running: Running) -> None:
    writer = logged_in(running, "notulist")
    save(writer, section("Schoolvoortgang", "Leest op niveau E5."))
    key = keys_by_heading(running, 1, ["progress"])["progress"]
    editor = writer.page(f"{MINUTES}/edit")
    assert "Leest op niveau E5." in editor.text
    writer.submit(f"{MINUTES}/draft", form(section(
        "Schoolvoortgang", "Leest op niveau E5, concept.", key=key)), htmx=True)
    assert "Leest op niveau E5, concept." in writer.page(f"{MINUTES}/edit").text

    restrict_case(running, CASE_ID)
    page = writer.page(f"{MINUTES}/edit")
    assert page.status_code == 200
    assert "Leest op niveau" not in page.text
    assert "bevat onderdelen waartoe u nu geen toegang hebt" in page.text
    assert 'hx-trigger="input delay:2s"' not in page.text  # the kept draft is not overwritten
    with running.portal.sessions() as db:
        assert len(db.scalars(select(MinutesDraft)).all()) == 1  # kept
    opened = records(running, "notulist", "minutes.draft.open")
    assert [(r.outcome, r.reason) for r in opened][-1] == ("denied", "restricted")
    assert opened[-1].data_categories == "school_progress"
    # Every draft record comes from a decision: the allowed one before the restriction too.
    assert [r.outcome for r in opened] == ["allowed", "denied"]


def test_reclassifying_a_section_protects_its_older_copies(running: Running) -> None:
    behaviour_for_youth_care_and_school(running)
    writer = logged_in(running, "notulist")
    save(writer, section("Observatie", "Diagnose ADHD gesteld.", categories=("behaviour",)))
    key = keys_by_heading(running, 1, ["x"])["x"]
    worker = logged_in(running, "jeugdhulp")
    assert "Diagnose ADHD" in worker.page(f"{MINUTES}?version=1").text
    resaved = save(writer, section("Observatie", "Diagnose ADHD gesteld.",
                                   categories=("health",), key=key))
    assert resaved.status_code == 200, resaved.text[-3000:]
    assert "Diagnose ADHD" not in worker.page(MINUTES).text
    old = worker.page(f"{MINUTES}?version=1")
    assert old.status_code == 200 and "Diagnose ADHD" not in old.text
    assert "1 onderdeel valt buiten uw toestemming" in old.text
    assert "Diagnose ADHD" not in worker.page(f"{MINUTES}/history").text
    exported = worker.get(f"{MINUTES}/pdf?version=1")
    reader = PdfReader(io.BytesIO(exported.content))
    assert "Diagnose ADHD" not in "\n".join(p.extract_text() for p in reader.pages)
    decided = records(running, "jeugdhulp", "minutes.view.section")
    assert (decided[-1].document_version, decided[-1].outcome,
            decided[-1].data_categories) == (1, "denied", "behaviour,health")


def test_corrections_follow_the_sections_current_categories(running: Running) -> None:
    behaviour_for_youth_care_and_school(running)
    writer = logged_in(running, "notulist")
    save(writer, section("Gedrag", "Drie incidenten.", categories=("behaviour",)))
    key = keys_by_heading(running, 1, ["x"])["x"]
    submit_and_approve(running, writer, 1)
    mentor = logged_in(running, "mentor")
    mentor.page(MINUTES)
    assert mentor.submit(f"{MINUTES}/corrections", {
        "section": key, "text": "Twee incidenten en een diagnose.",
        "reason": "Telfout"}).status_code == 200
    worker = logged_in(running, "jeugdhulp")
    assert "Twee incidenten en een diagnose." in worker.page(MINUTES).text
    save(writer, section("Gedrag", "Drie incidenten.", categories=("health",), key=key))
    assert "Twee incidenten en een diagnose." not in worker.page(f"{MINUTES}?version=1").text


def test_unsharing_a_section_takes_it_from_the_family_before_the_next_approval(
        running: Running) -> None:
    writer = logged_in(running, "notulist")
    save(writer, section("Schoolvoortgang", "Leest op niveau E5.", shared=True))
    key = keys_by_heading(running, 1, ["x"])["x"]
    submit_and_approve(running, writer, 1)
    mother = logged_in(running, "ouder1")
    assert "Leest op niveau E5." in mother.page(f"/family/cases/{CASE_ID}").text
    save(writer, section("Schoolvoortgang", "Leest op niveau E5.", key=key))  # not shared
    assert "Leest op niveau E5." not in mother.page(f"/family/cases/{CASE_ID}").text


def anonymous_meeting(running: Running) -> str:
    chair = logged_in(running, "ib")
    created = create_anonymous(chair, "Leerling groep 7", "Gedrag in de klas")
    case_id = CASE_URL.search(str(created.url)).group(1)  # type: ignore[attr-defined,union-attr]
    chair.page(f"/cases/{case_id}/meetings/new")
    day = (running.clock.now + timedelta(days=2)).date().isoformat()
    response = chair.post(f"/cases/{case_id}/meetings", data={
        "csrf_token": chair.csrf, "date": day, "time": "10:00", "duration": "60",
        "place": "Kamer 3", "agenda": "Gedrag", "category": "behaviour",
        "minute_taker_id": stable_id("person", "ib")})
    assert response.status_code == 200, response.text
    return f"/meetings/{response.url.path.rsplit('/', 1)[1]}/minutes"


def test_minutes_in_an_anonymous_case_get_the_identifier_check(running: Running) -> None:
    path = anonymous_meeting(running)
    chair = logged_in(running, "ib")
    bsn = section("Gedrag", "Zorgen; BSN 123456782 genoteerd.", categories=("behaviour",))
    blocked = save(chair, bsn, meeting_path=path)
    assert blocked.status_code == 400
    assert "burgerservicenummer (BSN)" in blocked.text
    assert 'name="confirm_identifiers"' in blocked.text
    assert versions(running, path.split("/")[2]) == []
    saved = chair.submit(path, {**form(bsn), "confirm_identifiers": "on"})
    assert saved.status_code == 200 and "BSN 123456782" in saved.text
    with running.portal.sessions() as db:
        (override,) = db.scalars(select(IdentifierOverride).where(
            IdentifierOverride.field.like("minutes_section:%"))).all()
    assert override.kinds == ["bsn"] and override.field.endswith(":body")

    # A correction's text is checked too.
    assert len(versions(running, path.split("/")[2])) == 1
    submit_and_approve(running, chair, 1, meeting_path=path)
    key = re.search(r'name="section" value="([0-9a-f-]{36})"', chair.page(path).text)
    assert key
    refused = chair.submit(f"{path}/corrections", {
        "section": key.group(1), "text": "Sam Mulder had geen incidenten.",
        "reason": "Verkeerd genoteerd"})
    assert refused.status_code == 400 and 'name="confirm_identifiers"' in refused.text


def test_accepting_refuses_an_opinion_and_a_newer_unapproved_version(running: Running) -> None:
    writer = logged_in(running, "notulist")
    save(writer, section("Aanwezigheid", "Sam was drie keer te laat."))
    key = keys_by_heading(running, 1, ["x"])["x"]
    submit_and_approve(running, writer, 1)
    mentor = logged_in(running, "mentor")
    mentor.page(MINUTES)
    mentor.submit(f"{MINUTES}/corrections", {
        "section": key, "text": "Sam was twee keer te laat.", "reason": "Telfout"})
    chair = logged_in(running, "ib")
    correction = re.search(r"/corrections/([0-9a-f-]{36})/accept", chair.page(MINUTES).text)
    assert correction
    accept = f"{MINUTES}/corrections/{correction.group(1)}/accept"

    # A newer draft exists: accepting would drop it from the line.
    save(writer, section("Aanwezigheid", "Sam was drie keer te laat. Nu met afspraak.",
                         key=key))
    chair.page(MINUTES)
    refused = chair.submit(accept)
    assert refused.status_code == 400 and "stel die eerst vast" in refused.text
    assert len(versions(running)) == 2

    # Now approved, but the section has become an opinion.
    save(writer, section("Aanwezigheid", "Sam lijkt vaak te laat.", nature="opinion",
                         key=key))
    submit_and_approve(running, writer, 3)
    chair.page(MINUTES)
    refused = chair.submit(accept)
    assert refused.status_code == 400
    assert "Een professionele mening kan niet worden gerectificeerd" in refused.text
    assert len(versions(running)) == 3


def test_a_refused_submit_or_approval_is_not_recorded_as_allowed(running: Running) -> None:
    writer = logged_in(running, "notulist")
    writer.page(MINUTES)
    assert writer.submit(f"{MINUTES}/submit").status_code == 400  # nothing to submit
    (submitted,) = records(running, "notulist", "minutes.submit")
    assert (submitted.outcome, submitted.reason) == ("failed", "invalid_input")
    save(writer, section("Schoolvoortgang", "Leest op niveau E5."))
    chair = logged_in(running, "ib")
    chair.page(MINUTES)
    assert chair.submit(f"{MINUTES}/approve", {"version": "1"}).status_code == 400
    (approved,) = records(running, "ib", "minutes.approve")
    assert approved.outcome == "failed"
    submit_and_approve(running, writer, 1)
    assert [r.outcome for r in records(running, "ib", "minutes.approve")] == [
        "failed", "allowed"]


def test_a_foster_parent_let_in_reads_the_shared_sections_the_consent_names(
        running: Running) -> None:
    meeting = schedule_noor_meeting(running, "smw")
    path = f"/meetings/{meeting}/minutes"
    worker = logged_in(running, "smw")
    save(worker, section("Aanwezigheid", "Noor was elke dag op school.", shared=True),
         section("Gedrag", "Rustiger in de klas.", categories=("behaviour",), shared=True),
         meeting_path=path)
    submit_and_approve(running, worker, 1, meeting_path=path)
    foster = logged_in(running, "pleegouder")
    assert "elke dag op school" not in foster.page(f"/family/cases/{NOOR_CASE}").text
    give(logged_in(running, "leerling16"), NOOR_CASE, ["school_progress"],
         [f"adult:{stable_id('person', 'pleegouder')}"])
    page = foster.page(f"/family/cases/{NOOR_CASE}")
    assert "Noor was elke dag op school." in page.text
    assert "Rustiger in de klas" not in page.text  # behaviour is not in the consent
