"""The case timeline: what happened when, only what the viewer may see, every decision recorded."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.demo import DEMO_CASE, stable_id
from portal.localtime import LOCAL_TIME
from tests.documents.helpers import legacy_minutes
from tests.harness import Running
from tests.meetings.test_meetings import schedule
from tests.minutes import helpers as minutes

CASE_ID = stable_id("case", DEMO_CASE.key)
TIMELINE = f"/cases/{CASE_ID}/timeline"


def records_since(running: Running, seq: int) -> list[AccessRecord]:
    """The timeline's records; the case header's own read (``case.view``) left out."""
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord).where(
            AccessRecord.seq > seq, AccessRecord.event_type != "case.view")
            .order_by(AccessRecord.seq)))


def events(page: str) -> str:
    """The timeline itself, below the case page's header and tabs."""
    return page[page.index('id="timeline-heading"'):]


def last_seq(running: Running) -> int:
    with running.portal.sessions() as db:
        return db.scalar(select(AccessRecord.seq).order_by(AccessRecord.seq.desc())
                         .limit(1)) or 0


def test_the_timeline_shows_what_the_viewer_may_see_and_counts_the_rest(
        running: Running) -> None:
    chair = running.client()
    chair.login("ib")
    # The demo's consents cover behaviour for Het Baken, not health.
    behaviour = legacy_minutes(running, "ib", "Gedrag in de klas", "KANARIE-GEDRAG",
                               categories=("behaviour",))
    health = legacy_minutes(running, "ib", "Medisch", "KANARIE-GEZONDHEID",
                            categories=("health",))
    mentor = running.client()
    mentor.login("mentor")
    before = last_seq(running)
    page = mentor.page(TIMELINE)
    assert page.status_code == 200
    assert f"/documents/{behaviour}" in page.text
    assert f"/documents/{health}" not in page.text
    assert "Documenten buiten uw toestemming, niet getoond: 1" in page.text
    # Facts about events only: no title, no text, on any event.
    for secret in ("Gedrag in de klas", "KANARIE", "Medisch", "Sam"):
        assert secret not in events(page.text)
    assert "KANARIE" not in page.text
    view, *items = records_since(running, before)
    assert (view.event_type, view.outcome, view.object_id) == ("case.timeline", "allowed",
                                                               CASE_ID)
    by_document = {r.object_id: r for r in items}
    assert len(items) == 2 and {r.event_type for r in items} == {"timeline.item"}
    assert by_document[behaviour].outcome == "allowed"
    assert by_document[behaviour].data_categories == "behaviour"
    assert by_document[behaviour].document_version == 1
    assert by_document[health].outcome == "denied"
    assert by_document[health].reason == "consent_scope_category"


def test_events_of_meetings_consents_and_erasures_appear_newest_first(running: Running) -> None:
    chair = running.client()
    chair.login("ib")
    document = legacy_minutes(running, "ib", "Titel", "Tekst")
    running.clock.advance(minutes=5)
    erased = chair.submit(f"/cases/{CASE_ID}/documents/{document}/erase", {"confirm": "on"})
    assert erased.status_code == 200, erased.text
    page = chair.page(TIMELINE)
    assert page.status_code == 200
    text = page.text
    # The demo case: opened, two signed consents; then the minutes and their erasure.
    assert text.count("Toestemming gegeven door een ouder of voogd") == 2
    assert "Casus geopend" in text
    assert text.index("gewist (1 versie)") < text.index("Casus geopend"), "newest first"
    assert f"/documents/{document}" not in text, "an erased document has nothing to open"


def test_an_outsider_gets_404_and_the_refusal_is_recorded(running: Running) -> None:
    outsider = running.client()
    outsider.login("buitenstaander")
    before = last_seq(running)
    assert outsider.page(TIMELINE).status_code == 404
    (refusal,) = records_since(running, before)
    assert (refusal.event_type, refusal.outcome, refusal.case_id) == (
        "case.timeline", "denied", CASE_ID)


def test_minutes_versions_appear_without_their_sections(running: Running) -> None:
    writer = minutes.logged_in(running, "notulist")
    saved = minutes.save(writer, minutes.section("Voortgang", "KANARIE-VERSLAG"))
    assert saved.status_code == 200, saved.text
    minutes.submit_and_approve(running, writer, 1)
    page = minutes.logged_in(running, "mentor").page(TIMELINE)
    assert page.status_code == 200
    assert "Verslag van het MDO: versie 1 opgeslagen" in page.text
    assert "Verslag van het MDO: versie 1 vastgesteld" in page.text
    assert f'href="{minutes.MINUTES}"' in page.text
    assert "KANARIE" not in page.text and "Voortgang" not in page.text


def test_a_restricted_case_shows_only_that_it_was_opened(running: Running) -> None:
    from portal.consent.models import Restriction

    writer = minutes.logged_in(running, "notulist")
    assert minutes.save(writer, minutes.section("Voortgang", "Tekst")).status_code == 200
    chair = running.client()
    chair.login("ib")
    document = legacy_minutes(running, "ib", "Titel", "Tekst",
                              categories=("behaviour",))
    shown = chair.page(TIMELINE).text
    assert "versie 1 opgeslagen" in shown and f"/documents/{document}" in shown
    assert "Toestemming gegeven" in shown
    with running.portal.sessions() as db:
        db.add(Restriction(case_id=CASE_ID, placed_by=stable_id("person", "fg"),
                           placed_at=running.clock()))
        db.commit()
    before = last_seq(running)
    page = chair.page(TIMELINE)
    assert page.status_code == 200
    for event in ("versie 1", "/documents/", "/meetings/", "Toestemming", "MDO gepland",
                  "Actiepunt"):
        assert event not in events(page.text), event
    assert page.text.count('<li class="timeline-') == 1 and "Casus geopend" in page.text
    assert "beperking van de verwerking" in page.text
    (view,) = records_since(running, before)
    assert (view.event_type, view.outcome) == ("case.timeline", "allowed")


def test_a_moved_meeting_shows_when_it_was_moved(running: Running) -> None:
    """A move is on the timeline as its own event, with the meeting to open: read from
    the move's access record (the move has no column of its own), facts only."""
    meeting_id = schedule(running, invite_family="")
    chair = running.client()
    chair.login("ib")
    chair.page(f"/meetings/{meeting_id}")
    running.clock.advance(minutes=5)
    day = (running.clock.now + timedelta(days=6)).astimezone(LOCAL_TIME).date()
    moved = chair.submit(f"/meetings/{meeting_id}/move",
                         {"date": day.isoformat(), "time": "11:00", "duration": "60"})
    assert moved.status_code == 200, moved.text
    timeline = chair.page(TIMELINE)
    assert timeline.status_code == 200, timeline.text[:2000]
    text = events(timeline.text)
    assert text.count("MDO verplaatst naar een ander tijdstip") == 1
    assert text.index("MDO verplaatst") < text.index("MDO gepland"), "newest first"
    moved_entry = text[text.index("MDO verplaatst"):].split("</li>")[0]
    assert f'href="/meetings/{meeting_id}"' in moved_entry
