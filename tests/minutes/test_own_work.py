"""People keep sight of their own work: the author's draft and sections, and nobody
approves minutes they cannot read."""

from __future__ import annotations

from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.minutes.models import MinutesStatus
from tests.harness import Running
from tests.minutes.helpers import MINUTES, form, logged_in, save, section, versions

# Health is in nobody's consent for Sam in the demo case.
HEALTH = ("health",)


def test_the_authors_restored_draft_is_shown_after_a_reload(running: Running) -> None:
    writer = logged_in(running, "notulist")
    writer.page(f"{MINUTES}/edit")
    saved = writer.submit(f"{MINUTES}/draft", form(
        section("Medisch", "Overleg met de huisarts", categories=HEALTH),
        section("Nieuw", "Zonder soort", categories=())), htmx=True)
    assert saved.status_code == 200
    reloaded = writer.page(f"{MINUTES}/edit")
    assert "Overleg met de huisarts" in reloaded.text, "the author sees her own draft"
    assert "Zonder soort" in reloaded.text
    with running.portal.sessions() as db:
        opened = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "minutes.draft.open")).all()
    assert opened and all(r.outcome == "allowed" for r in opened)
    assert any("author:own_writing" in (r.reason or r.basis or "") for r in opened)


def test_after_saving_the_author_sees_her_sections_and_nobody_else_does(
        running: Running) -> None:
    writer = logged_in(running, "notulist")
    done = save(writer, section("Medisch", "Overleg met de huisarts", categories=HEALTH),
                section("Thuis", "Gesprek met moeder", categories=("family_situation",)))
    assert done.status_code == 200
    assert "Overleg met de huisarts" in done.text and "Gesprek met moeder" in done.text
    assert "Overleg met de huisarts" in writer.page(f"{MINUTES}/edit").text
    for persona in ("mentor", "ib"):
        other = logged_in(running, persona).page(MINUTES)
        assert other.status_code == 200
        assert "Overleg met de huisarts" not in other.text


def test_the_chair_cannot_approve_minutes_she_cannot_read(running: Running) -> None:
    writer = logged_in(running, "notulist")
    save(writer, section("Gedrag", "Rustiger in de klas", categories=("behaviour",)),
         section("Medisch", "Overleg met de huisarts", categories=HEALTH))
    assert writer.submit(f"{MINUTES}/submit").status_code == 200
    chair = logged_in(running, "ib")
    page = chair.page(MINUTES)
    assert "U kunt deze versie niet vaststellen" in page.text
    assert "Onderdeel 2" in page.text and "Onderdeel 1:" not in page.text
    assert "/minutes/approve" not in page.text, "no approve button for what she cannot read"
    refused = chair.submit(f"{MINUTES}/approve", {"version": "1"})
    assert "Vraag een collega die alle onderdelen mag lezen" in refused.text
    assert [v.status for v in versions(running)] == [MinutesStatus.SUBMITTED]
    with running.portal.sessions() as db:
        outcome = db.scalars(select(AccessRecord.outcome).where(
            AccessRecord.event_type == "minutes.approve")
            .order_by(AccessRecord.seq.desc())).first()
    assert outcome == "failed"


def test_the_chair_approves_what_she_can_read(running: Running) -> None:
    writer = logged_in(running, "notulist")
    save(writer, section("Gedrag", "Rustiger in de klas", categories=("behaviour",)))
    assert writer.submit(f"{MINUTES}/submit").status_code == 200
    chair = logged_in(running, "ib")
    assert "/minutes/approve" in chair.page(MINUTES).text
    assert chair.submit(f"{MINUTES}/approve", {"version": "1"}).status_code == 200
    assert [v.status for v in versions(running)] == [MinutesStatus.APPROVED]
