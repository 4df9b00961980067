"""Sections and drafts: the columns that decide access are bound to the ciphertext.

Database edits that would widen access (a section's categories, its sharing
with parents) make the section unreadable — withheld and on record as a
failed read — never readable; an autosaved draft put back to an older one
does not come back.
"""

from __future__ import annotations

from sqlalchemy import select, update

from portal.audit.models import AccessRecord
from portal.minutes.models import MinutesCorrection, MinutesDraft, MinutesSection
from tests.harness import Running
from tests.minutes.helpers import (
    CASE_ID,
    MINUTES,
    form,
    logged_in,
    save,
    section,
    submit_and_approve,
)

HEALTH = "Slaapt slecht en heeft hoofdpijn."


def _failed(running: Running, event_type: str) -> list[str | None]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord.reason).where(
            AccessRecord.event_type == event_type, AccessRecord.outcome == "failed")))


def _edit_sections(running: Running, **values: object) -> None:
    with running.portal.sessions() as db, db.begin():
        db.execute(update(MinutesSection).values(**values))


def test_widened_category_fails_closed_with_a_record(running: Running) -> None:
    writer = logged_in(running, "notulist")
    save(writer, section("Gezondheid", HEALTH, categories=("health",)))
    ib = logged_in(running, "ib")  # the demo consents do not name health
    assert HEALTH not in ib.page(MINUTES).text
    _edit_sections(running, categories="school_progress")
    page = ib.page(MINUTES)
    assert page.status_code == 200 and HEALTH not in page.text
    assert _failed(running, "minutes.view.section") == ["decryption_failed"]


def test_downgraded_binding_does_not_switch_the_check_off(running: Running) -> None:
    writer = logged_in(running, "notulist")
    save(writer, section("Gezondheid", HEALTH, categories=("health",)))
    _edit_sections(running, categories="school_progress", binding=1)
    page = logged_in(running, "ib").page(MINUTES)
    assert HEALTH not in page.text
    assert _failed(running, "minutes.view.section") == ["decryption_failed"]


def test_sharing_flipped_in_the_database_reaches_no_parent(running: Running) -> None:
    writer = logged_in(running, "notulist")
    save(writer, section("Voortgang", "Leest op niveau E5.", shared=False))
    submit_and_approve(running, writer, 1)
    _edit_sections(running, shared_with_parents=True)
    page = logged_in(running, "ouder1").page(f"/family/cases/{CASE_ID}")
    assert page.status_code == 200 and "Leest op niveau" not in page.text
    assert "decryption_failed" in _failed(running, "minutes.family.section")


def test_a_rolled_back_draft_does_not_come_back(running: Running) -> None:
    tab = logged_in(running, "notulist")
    tab.page(f"{MINUTES}/edit")
    tab.submit(f"{MINUTES}/draft", form(section("Concept", "OUDE VERSIE")), htmx=True)
    with running.portal.sessions() as db:
        old = db.scalars(select(MinutesDraft)).one()
        snapshot = {"content_ct": old.content_ct, "sections": old.sections,
                    "counter": old.counter, "saved_at": old.saved_at}
    tab.submit(f"{MINUTES}/draft", form(section("Concept", "NIEUWE VERSIE")), htmx=True)
    assert "NIEUWE VERSIE" in tab.page(f"{MINUTES}/edit").text
    # Someone with the database puts the older draft back, whole (as from a backup).
    with running.portal.sessions() as db, db.begin():
        db.execute(update(MinutesDraft).values(**snapshot))
    editor = tab.page(f"{MINUTES}/edit")
    assert editor.status_code == 200 and "OUDE VERSIE" not in editor.text
    assert _failed(running, "minutes.draft.open") == ["decryption_failed"]


def test_widened_draft_categories_fail_closed(running: Running) -> None:
    tab = logged_in(running, "notulist")
    tab.page(f"{MINUTES}/edit")
    tab.submit(f"{MINUTES}/draft", form(section("Concept", HEALTH, categories=("health",))),
               htmx=True)
    with running.portal.sessions() as db, db.begin():
        draft = db.scalars(select(MinutesDraft)).one()
        draft.sections = [[key, "school_progress"] for key, _ in draft.sections or []]
    editor = tab.page(f"{MINUTES}/edit")
    assert HEALTH not in editor.text
    assert _failed(running, "minutes.draft.open") == ["decryption_failed"]


def test_edited_correction_categories_fail_closed(running: Running) -> None:
    """Any edit of the categories a correction is read by: withheld and on record."""
    writer = logged_in(running, "notulist")
    save(writer, section("Aanwezigheid", "Sam was drie keer te laat."))
    submit_and_approve(running, writer, 1)
    with running.portal.sessions() as db:
        key = db.scalars(select(MinutesSection.section_key)).first()
    mentor = logged_in(running, "mentor")
    mentor.page(MINUTES)
    proposed = mentor.submit(f"{MINUTES}/corrections", {
        "section": key, "text": "Twee keer.", "reason": "CORRECTIEREDEN"})
    assert proposed.status_code == 200 and "CORRECTIEREDEN" in proposed.text
    with running.portal.sessions() as db, db.begin():
        db.execute(update(MinutesCorrection).values(categories="behaviour,school_progress"))
    page = mentor.page(MINUTES)
    assert page.status_code == 200 and "CORRECTIEREDEN" not in page.text
    assert _failed(running, "minutes.correction.list") == ["decryption_failed"]
