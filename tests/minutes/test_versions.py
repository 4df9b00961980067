"""Versions, submission, approval and the freeze, over real HTTP on both engines."""

from __future__ import annotations

from portal.minutes.models import MinutesStatus
from tests.consent.test_portal import give
from tests.harness import Running
from tests.minutes.helpers import (
    CASE_ID,
    MINUTES,
    form,
    keys_by_heading,
    logged_in,
    save,
    section,
    sections_of,
    submit_and_approve,
    versions,
    written_earlier_by,
)


def test_every_save_is_a_version_and_approval_freezes_it(running: Running) -> None:
    writer = logged_in(running, "notulist")
    written = save(writer,
                   section("Voortgang op school", "Rekenen gaat vooruit.", shared=True),
                   section("Gezondheid", "Astma, medicatie op school.", categories=("health",)),
                   section("Afspraken", "Mentor belt ouders.", kind="agreements",
                           categories=("school_progress", "behaviour")))
    assert written.status_code == 200, written.text
    assert "Rekenen gaat vooruit." in written.text
    # No consent names health, but the minute-taker keeps sight of what she wrote.
    assert "Astma" in written.text
    (v1,) = versions(running)
    assert v1.status is MinutesStatus.DRAFT
    first = sections_of(running, v1.id)
    assert [s.categories for s in first] == ["school_progress", "health",
                                            "behaviour,school_progress"]
    assert all(b"Rekenen" not in s.body_ct for s in first)

    # Only the chair approves, and only what was submitted.
    chair = logged_in(running, "ib")
    chair.page(MINUTES)
    assert chair.submit(f"{MINUTES}/approve", {"version": "1"}).status_code == 400
    mentor = logged_in(running, "mentor")
    mentor.page(MINUTES)
    assert mentor.submit(f"{MINUTES}/approve", {"version": "1"}).status_code == 403
    assert mentor.submit(f"{MINUTES}/submit").status_code == 403
    # The chair approves only what she can read: the parents consent to health for her role.
    for parent in ("ouder1", "ouder2"):
        give(logged_in(running, parent), CASE_ID, ["health"], ["role:care_coordinator"])
    submit_and_approve(running, writer, 1)
    (v1,) = versions(running)
    assert v1.status is MinutesStatus.APPROVED and v1.approved_at == running.clock.now

    # A later edit is a new version needing approval; the approved one never changes.
    keys = keys_by_heading(running, 1, ["progress", "health", "agreements"])
    running.clock.advance(minutes=5)
    edited = save(writer,
                  section("Voortgang op school", "Rekenen en taal gaan vooruit.",
                          shared=True, key=keys["progress"]),
                  section("Afspraken", "Mentor belt ouders.", kind="agreements",
                          categories=("school_progress", "behaviour"), key=keys["agreements"]))
    assert edited.status_code == 200 and "Rekenen en taal" in edited.text
    v1_again, v2 = versions(running)
    assert v1_again.status is MinutesStatus.APPROVED and v2.status is MinutesStatus.DRAFT
    assert [(s.section_key, s.body_ct, s.heading_ct) for s in sections_of(running, v1.id)] == \
        [(s.section_key, s.body_ct, s.heading_ct) for s in first]
    second = sections_of(running, v2.id)
    assert [s.section_key for s in second] == [s.section_key for s in first]
    # Changed: sealed anew under version 2's key. Unreadable (health) and unchanged
    # (agreements): the very same ciphertext, never decrypted to be copied.
    assert second[0].sealed_version == 2 and second[0].data_key_id == v2.data_key_id
    assert second[0].body_ct != first[0].body_ct
    for old, new in ((first[1], second[1]), (first[2], second[2])):
        assert (new.body_ct, new.sealed_version, new.data_key_id) == \
            (old.body_ct, 1, v1.data_key_id)
    assert chair.submit(f"{MINUTES}/approve", {"version": "1"}).status_code == 400
    assert "Rekenen gaat vooruit." in chair.page(f"{MINUTES}?version=1").text

    history = logged_in(running, "mentor").page(f"{MINUTES}/history")
    assert history.status_code == 200
    assert "+Rekenen en taal gaan vooruit." in history.text
    assert "-Rekenen gaat vooruit." in history.text
    assert "Astma" not in history.text
    # Version 1 added the health section: a change the mentor may not see, counted only.
    assert history.text.count("1 gewijzigd onderdeel valt buiten uw toestemming") == 1


def test_the_editor_keeps_what_the_writer_may_not_read(running: Running) -> None:
    writer = logged_in(running, "notulist")
    save(writer, section("Gezondheid", "Allergie.", categories=("health",)),
         section("Gedrag", "Rustiger in de klas.", categories=("behaviour",)))
    keys = keys_by_heading(running, 1, ["health", "behaviour"])
    written_earlier_by(running, "ib")  # the health text is no longer hers alone
    # A form naming the unreadable section cannot overwrite it.
    writer.page(f"{MINUTES}/edit")
    response = writer.submit(MINUTES, form(
        section("Overschreven", "Iets anders.", categories=("behaviour",), key=keys["health"]),
        section("Gedrag", "Rustiger in de klas.", categories=("behaviour",),
                key=keys["behaviour"])))
    assert response.status_code == 200
    v1, v2 = versions(running)
    old, new = sections_of(running, v1.id), sections_of(running, v2.id)
    assert new[0].body_ct == old[0].body_ct and new[0].categories == "health"
    assert "Overschreven" not in response.text
