"""Scheduling an MDO, content-free invitations over real SMTP, action items, reminders."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from sqlalchemy import func, select

from portal.audit.models import AccessRecord
from portal.db import unit_of_work
from portal.demo import DEMO_CASE, stable_id
from portal.meetings.models import ActionItem, Meeting
from portal.meetings.notices import queue_reminders
from tests.harness import Running

CASE_ID = stable_id("case", DEMO_CASE.key)
CASE_PATH = f"/cases/{CASE_ID}"
# The organisation's name is not among them: invitations name it (issue 14).
SECRETS = ("Sam", "Mulder", "zorgen over gedrag", "Kamer 7", "gesprek over thuissituatie")


def wait_for_mail(running: Running, count: int) -> list:  # type: ignore[type-arg]
    running.portal.mail.poke()
    deadline = time.monotonic() + 10
    while len(running.portal.mail_catcher.snapshot()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return running.portal.mail_catcher.snapshot()


def schedule(running: Running, **extra: str) -> str:
    chair = running.client()
    chair.login("ib")
    form = chair.page(f"{CASE_PATH}/meetings/new")
    assert form.status_code == 200
    day = (running.clock.now + timedelta(days=3)).date().isoformat()
    data = {"date": day, "time": "14:30", "duration": "60", "place": "Kamer 7",
            "agenda": "gesprek over thuissituatie", "invite_family": "on",
            "minute_taker_id": stable_id("person", "notulist"), "category": "behaviour",
            **extra}
    invitees = [stable_id("person", "mentor"), stable_id("person", "notulist")]
    response = chair.post(f"{CASE_PATH}/meetings",
                          data={**data, "csrf_token": chair.csrf, "invitee": invitees})
    assert response.status_code == 200, response.text
    assert "14:30" in response.text
    if data["category"] == "behaviour":  # the demo consents cover it for Het Baken
        assert "Kamer 7" in response.text
    return response.url.path.rsplit("/", 1)[1]


def test_invitations_reach_invitees_and_the_family_without_personal_data(
        running: Running) -> None:
    meeting_id = schedule(running)
    mail = wait_for_mail(running, 5)
    recipients = sorted(r for m in mail for r in m.recipients)
    assert recipients == sorted(f"{s}@demo.mdo-portaal.test"
                                for s in ("ib", "mentor", "notulist", "ouder1", "ouder2"))
    for message in mail:
        assert len(message.recipients) == 1, "nobody sees another recipient"
        text = message.subject + message.body
        for secret in SECRETS:
            assert secret not in text
        assert "@" not in message.body, "no e-mail addresses of others in the body"
        assert message.attachments == ("mdo.ics",)
    professional = next(m for m in mail if m.recipients == ("mentor@demo.mdo-portaal.test",))
    assert f"/meetings/{meeting_id}" in professional.body
    day = (running.clock.now + timedelta(days=3)).date().strftime("%d-%m-%Y")
    assert f"van Scholengemeenschap Het Baken op {day} om 14:30 uur" in professional.body
    parent = next(m for m in mail if m.recipients == ("ouder1@demo.mdo-portaal.test",))
    assert "/meetings/" not in parent.body, "parents are not case participants"


def test_place_and_agenda_are_encrypted_at_rest(running: Running) -> None:
    meeting_id = schedule(running)
    with running.portal.sessions() as db:
        meeting = db.get_one(Meeting, meeting_id)
        assert b"Kamer 7" not in meeting.place_ct
        assert b"thuissituatie" not in meeting.agenda_ct


def test_only_the_chair_schedules(running: Running) -> None:
    mentor = running.client()
    mentor.login("mentor")
    assert mentor.get(f"{CASE_PATH}/meetings/new").status_code == 403
    outsider = running.client()
    outsider.login("buitenstaander")
    assert outsider.get(f"/meetings/{stable_id('meeting', DEMO_CASE.key)}").status_code == 404


def test_cancelling_tells_the_invitees(running: Running) -> None:
    meeting_id = schedule(running, invite_family="")
    invitations = len(wait_for_mail(running, 3))
    chair = running.client()
    chair.login("ib")
    chair.page(f"/meetings/{meeting_id}")
    chair.submit(f"/meetings/{meeting_id}/cancel")
    mail = wait_for_mail(running, invitations + 3)
    cancellations = [m for m in mail if m.subject.startswith("Een MDO is gewijzigd")]
    assert len(cancellations) == 3
    assert "geannuleerd" in chair.page(f"/meetings/{meeting_id}").text


def test_action_item_owner_sees_it_and_marks_it_done(running: Running) -> None:
    chair = running.client()
    chair.login("ib")
    chair.page(CASE_PATH)
    due = (running.clock.now + timedelta(days=5)).date().isoformat()
    added = chair.submit(f"{CASE_PATH}/action-items", {
        "text": "Gesprek met de jeugdarts plannen", "owner_id": stable_id("person", "mentor"),
        "due_on": due, "category": "school_progress"}, htmx=True)
    assert added.status_code == 200 and "Gesprek met de jeugdarts plannen" in added.text
    mentor = running.client()
    mentor.login("mentor")
    start = mentor.page("/cases")
    assert "Gesprek met de jeugdarts plannen" in start.text
    with running.portal.sessions() as db:
        item_id = db.scalars(select(ActionItem.id).where(
            ActionItem.owner_id == stable_id("person", "mentor"),
            ActionItem.id != stable_id("action_item", DEMO_CASE.key))).one()
    minute_taker = running.client()
    minute_taker.login("notulist")
    minute_taker.page(CASE_PATH)
    refused = minute_taker.submit(f"/action-items/{item_id}/status", {"done": "1"})
    assert refused.status_code == 403, "only the owner or the chair reports on an item"
    done = mentor.submit(f"/action-items/{item_id}/status", {"done": "1", "from": "start"})
    assert done.status_code == 200
    assert "Gesprek met de jeugdarts plannen" not in done.text


def test_reminders_go_once_before_the_due_date_and_once_overdue(running: Running) -> None:
    portal = running.portal
    url = portal.settings.public_url
    with unit_of_work(portal.sessions) as db:
        assert queue_reminders(db, running.clock(), url) == 0, "the demo item is due in 14 days"
    running.clock.advance(days=13)
    with unit_of_work(portal.sessions) as db:
        assert queue_reminders(db, running.clock(), url) == 1
        assert queue_reminders(db, running.clock(), url) == 0
    running.clock.advance(days=2)
    with unit_of_work(portal.sessions) as db:
        assert queue_reminders(db, running.clock(), url) == 1
    mail = wait_for_mail(running, 2)
    assert [m.recipients for m in mail] == [("mentor@demo.mdo-portaal.test",)] * 2
    for message in mail:
        assert "observeren" not in message.body and "Sam" not in message.body


def test_an_agenda_fragment_is_recorded_as_a_read(running: Running) -> None:
    """The htmx answer to a write shows the case's items: that read is on record too."""
    chair = running.client()
    chair.login("ib")
    chair.page(CASE_PATH)
    due = (running.clock.now + timedelta(days=5)).date().isoformat()
    chair.submit(f"{CASE_PATH}/action-items", {
        "text": "Verslag delen", "owner_id": stable_id("person", "mentor"), "due_on": due,
        "category": "behaviour"}, htmx=True)
    with running.portal.sessions() as db:
        reads = db.scalars(select(AccessRecord.outcome).where(
            AccessRecord.event_type == "meeting.agenda",
            AccessRecord.case_id == CASE_ID)).all()
    assert reads == ["allowed"]


def records(running: Running, event_type: str, object_id: str) -> list[AccessRecord]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == event_type, AccessRecord.object_id == object_id)
            .order_by(AccessRecord.seq)))


def test_an_agenda_outside_the_consent_scope_is_counted_not_shown(running: Running) -> None:
    """Health is in nobody's consent for Sam: the agenda stays closed, but date, time,
    invitees and the place (logistics, not case content) reach every invitee."""
    meeting_id = schedule(running, category="health", confirm_unreadable="on")
    for persona in ("ib", "mentor"):
        client = running.client()
        client.login(persona)
        page = client.page(f"/meetings/{meeting_id}")
        assert page.status_code == 200 and "14:30" in page.text
        assert "Kamer 7" in page.text, "an invitee always knows where to go"
        assert "thuissituatie" not in page.text
        assert "Niet binnen uw toestemming: 1" in page.text
        assert "Mirjam de Vries" in page.text and "Mila Smit" in page.text  # invitees stay
        denied = records(running, "meeting.agenda.read", meeting_id)[-1]
        assert (denied.outcome, denied.data_categories) == ("denied", "health")
    behaviour = schedule(running, category="behaviour")
    mentor = running.client()
    mentor.login("mentor")
    assert "gesprek over thuissituatie" in mentor.page(f"/meetings/{behaviour}").text
    assert records(running, "meeting.agenda.read", behaviour)[-1].outcome == "allowed"


def test_a_participant_who_is_not_invited_sees_no_place(running: Running) -> None:
    chair = running.client()
    chair.login("ib")
    chair.page(f"{CASE_PATH}/meetings/new")
    day = (running.clock.now + timedelta(days=3)).date().isoformat()
    response = chair.post(f"{CASE_PATH}/meetings", data={
        "date": day, "time": "14:30", "duration": "60", "place": "Kamer 7", "agenda": "x",
        "category": "health", "confirm_unreadable": "on", "csrf_token": chair.csrf,
        "invitee": [stable_id("person", "notulist")]})
    assert response.status_code == 200 and "Kamer 7" in response.text
    mentor = running.client()
    mentor.login("mentor")
    page = mentor.page(response.url.path)
    assert page.status_code == 200 and "14:30" in page.text
    assert "Kamer 7" not in page.text


def test_no_category_is_pre_ticked_and_none_chosen_is_refused(running: Running) -> None:
    chair = running.client()
    chair.login("ib")
    form = chair.page(f"{CASE_PATH}/meetings/new")
    assert 'name="category"' in form.text
    assert not re.search(r'name="category" value="[a-z_]+" checked', form.text), \
        "the writer chooses: no category is pre-ticked"
    day = (running.clock.now + timedelta(days=3)).date().isoformat()
    refused = chair.submit(f"{CASE_PATH}/meetings", {
        "date": day, "time": "10:00", "duration": "60", "place": "Kamer 9",
        "agenda": "Overleg"})
    assert refused.status_code == 400
    assert "Kies wat voor informatie de agenda bevat" in refused.text
    assert 'value="Kamer 9"' in refused.text, "what the writer typed is kept"


def test_the_writer_is_warned_before_choosing_what_they_cannot_read_back(
        running: Running) -> None:
    """"Overig" is named by no consent: the chair is warned and must confirm."""
    chair = running.client()
    chair.login("ib")
    chair.page(f"{CASE_PATH}/meetings/new")
    day = (running.clock.now + timedelta(days=3)).date().isoformat()
    data = {"date": day, "time": "10:00", "duration": "60", "place": "Kamer 9",
            "agenda": "Overleg", "category": "other"}
    warned = chair.submit(f"{CASE_PATH}/meetings", data)
    assert warned.status_code == 400
    assert "U kunt dit zelf niet teruglezen" in warned.text
    assert 'id="confirm_unreadable"' in warned.text
    with running.portal.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Meeting)
                         .where(Meeting.case_id == CASE_PATH.rsplit("/", 1)[1])) == 1
    confirmed = chair.submit(f"{CASE_PATH}/meetings", {**data, "confirm_unreadable": "on"})
    assert confirmed.status_code == 200 and "Kamer 9" in confirmed.text
    readable = chair.submit(f"{CASE_PATH}/meetings", {**data, "category": "behaviour"})
    assert readable.status_code == 200 and "Overleg" in readable.text


def test_an_unknown_agenda_category_is_refused(running: Running) -> None:
    chair = running.client()
    chair.login("ib")
    chair.page(f"{CASE_PATH}/meetings/new")
    day = (running.clock.now + timedelta(days=3)).date().isoformat()
    refused = chair.submit(f"{CASE_PATH}/meetings", {
        "date": day, "time": "10:00", "duration": "60", "place": "Kamer 7",
        "agenda": "x", "category": "secrets"})
    assert refused.status_code == 400
    assert "Kies wat voor informatie de agenda bevat" in refused.text


def test_action_items_are_read_within_the_consent_scope(running: Running) -> None:
    chair = running.client()
    chair.login("ib")
    chair.page(CASE_PATH)
    due = (running.clock.now + timedelta(days=5)).date().isoformat()
    for text, category in (("Overleg met de huisarts", "health"),
                           ("Rooster aanpassen", "school_progress")):
        added = chair.submit(f"{CASE_PATH}/action-items", {
            "text": text, "owner_id": stable_id("person", "mentor"), "due_on": due,
            "category": category, "confirm_unreadable": "on"}, htmx=True)
        assert added.status_code == 200
    missing = chair.submit(f"{CASE_PATH}/action-items", {
        "text": "Zonder categorie", "owner_id": stable_id("person", "mentor"), "due_on": due},
        htmx=True)
    assert missing.status_code == 400
    mentor = running.client()
    mentor.login("mentor")
    page = mentor.page(f"{CASE_PATH}/actions").text
    assert "Rooster aanpassen" in page and "Overleg met de huisarts" not in page
    # The demo's own item (behaviour) is readable; the health item is counted.
    assert "Twee weken observeren" in page
    assert "Actiepunten buiten uw toestemming: 1" in page
    assert "Overleg met de huisarts" not in mentor.page("/cases").text
    with running.portal.sessions() as db:
        outcomes = {r.data_categories: r.outcome for r in db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "action_item.read",
            AccessRecord.user_id == stable_id("person", "mentor")))}
    assert outcomes["health"] == "denied" and outcomes["school_progress"] == "allowed"


def test_the_demo_agenda_names_the_family_situation_and_stays_closed(running: Running) -> None:
    mentor = running.client()
    mentor.login("mentor")
    page = mentor.page(f"/meetings/{stable_id('meeting', DEMO_CASE.key)}").text
    assert "Observaties" not in page
    assert "Niet binnen uw toestemming: 1" in page


def test_meeting_and_action_item_text_in_an_anonymous_case_is_checked(
        running_sqlite: Running) -> None:
    from portal.consent.models import IdentifierOverride
    from tests.consent.test_anonymous import CASE_URL, create_anonymous

    running = running_sqlite
    chair = running.client()
    chair.login("ib")
    created = create_anonymous(chair, "Leerling groep 7", "Gedrag in de klas")
    match = CASE_URL.search(str(created.url))  # type: ignore[attr-defined]
    assert match
    case_id = match.group(1)
    assert chair.page(f"/cases/{case_id}/meetings/new").status_code == 200
    day = (running.clock.now + timedelta(days=3)).date().isoformat()
    meeting = {"date": day, "time": "14:30", "duration": "60", "place": "Kamer 7",
               "agenda": "Gesprek over Sam", "category": "behaviour"}
    blocked = chair.submit(f"/cases/{case_id}/meetings", meeting)
    assert blocked.status_code == 400 and "naam van een geregistreerd kind" in blocked.text
    assert 'name="confirm_identifiers"' in blocked.text
    with running.portal.sessions() as db:
        assert db.scalars(select(Meeting).where(Meeting.case_id == case_id)).all() == []
    scheduled = chair.submit(f"/cases/{case_id}/meetings",
                             {**meeting, "confirm_identifiers": "on"})
    assert scheduled.status_code == 200
    meeting_id = scheduled.url.path.rsplit("/", 1)[1]

    item = {"text": "Sam belt de huisarts", "owner_id": stable_id("person", "ib"),
            "due_on": (running.clock.now + timedelta(days=7)).date().isoformat(),
            "category": "behaviour"}
    refused = chair.submit(f"/cases/{case_id}/action-items", item, htmx=True)
    assert refused.status_code == 400 and "naam van een geregistreerd kind" in refused.text
    assert "Sam belt de huisarts" in refused.text, "the form keeps what was typed"
    with running.portal.sessions() as db:
        assert db.scalars(select(ActionItem).where(ActionItem.case_id == case_id)).all() == []
    added = chair.submit(f"/cases/{case_id}/action-items",
                         {**item, "confirm_identifiers": "on"}, htmx=True)
    assert added.status_code == 200
    with running.portal.sessions() as db:
        item_id = db.scalars(select(ActionItem.id).where(ActionItem.case_id == case_id)).one()
        overrides = db.scalars(select(IdentifierOverride)
                               .where(IdentifierOverride.case_id == case_id)).all()
    assert sorted((o.field, o.kinds) for o in overrides) == [
        (f"action_item:{item_id}:text", ["child_name"]),
        (f"meeting:{meeting_id}:agenda", ["child_name"])]


def test_an_action_item_the_writer_cannot_read_back_needs_confirmation(
        running: Running) -> None:
    chair = running.client()
    chair.login("ib")
    chair.page(CASE_PATH)
    due = (running.clock.now + timedelta(days=5)).date().isoformat()
    data = {"text": "Overleg met de huisarts", "owner_id": stable_id("person", "mentor"),
            "due_on": due, "category": "health"}
    warned = chair.submit(f"{CASE_PATH}/action-items", data, htmx=True)
    assert warned.status_code == 400 and "U kunt dit zelf niet teruglezen" in warned.text
    assert 'name="confirm_unreadable"' in warned.text
    with running.portal.sessions() as db:
        assert db.scalar(select(func.count()).select_from(ActionItem)) == 1  # the demo's
    confirmed = chair.submit(f"{CASE_PATH}/action-items", {**data, "confirm_unreadable": "on"},
                             htmx=True)
    assert confirmed.status_code == 200
    with running.portal.sessions() as db:
        assert db.scalar(select(func.count()).select_from(ActionItem)) == 2
