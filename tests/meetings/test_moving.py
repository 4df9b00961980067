"""Moving a meeting (issue 14): the chair gives a new date, time or duration; each
invitee's calendar entry is replaced (same UID, higher SEQUENCE) and they are told,
content-free. Nobody else moves it; a past time or a cancelled meeting is refused."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.demo import stable_id
from portal.localtime import LOCAL_TIME
from portal.mail.models import OutboxMessage
from portal.meetings.models import Meeting
from portal.notifications.models import Notification
from tests.harness import PortalClient, Running
from tests.mail.test_content_free import FORBIDDEN, decoded_parts
from tests.meetings.test_meetings import SECRETS, schedule, wait_for_mail

INVITEES = ("ib", "mentor", "notulist")  # scheduled without the family


def _chair(running: Running, meeting_id: str) -> PortalClient:
    chair = running.client()
    chair.login("ib")
    chair.page(f"/meetings/{meeting_id}")
    return chair


def _new_time(running: Running, days: int) -> tuple[dict[str, str], datetime]:
    day = (running.clock.now + timedelta(days=days)).astimezone(LOCAL_TIME).date()
    starts = datetime.combine(day, time(10, 0), tzinfo=LOCAL_TIME).astimezone(UTC)
    return {"date": day.isoformat(), "time": "10:00", "duration": "90"}, starts


def _state(running: Running, meeting_id: str) -> tuple[datetime, int]:
    with running.portal.sessions() as db:
        meeting = db.get_one(Meeting, meeting_id)
        return meeting.starts_at, meeting.duration_minutes


def _outbox(running: Running, kind: str) -> list[OutboxMessage]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def _field(ics: str, name: str) -> str:
    lines = ics.replace("\r\n ", "").split("\r\n")
    return next(line.split(":", 1)[1] for line in lines if line.startswith(f"{name}:"))


def test_the_chair_moves_and_every_invitee_hears_it(running: Running) -> None:
    meeting_id = schedule(running, invite_family="")
    invitations = wait_for_mail(running, len(INVITEES))
    chair = _chair(running, meeting_id)
    form, starts = _new_time(running, 5)
    response = chair.submit(f"/meetings/{meeting_id}/move", form)
    assert response.status_code == 200, response.text
    assert response.url.path == f"/meetings/{meeting_id}"
    assert "Het overleg is verplaatst." in response.text
    assert _state(running, meeting_id) == (starts, 90)

    invited = {m.recipient: m.calendar for m in _outbox(running, "meeting.invitation")}
    changed = _outbox(running, "meeting.changed")
    assert sorted(m.recipient for m in changed) == sorted(
        f"{p}@demo.mdo-portaal.test" for p in INVITEES), "one mail each"
    stamp = starts.strftime("%Y%m%dT%H%M%SZ")
    for message in changed:
        ics, before = message.calendar or "", invited[message.recipient] or ""
        assert _field(ics, "METHOD") == "REQUEST"
        assert _field(ics, "UID") == _field(before, "UID") == f"{meeting_id}@mdo-portaal"
        assert _field(ics, "DTSTART") == stamp
        assert _field(ics, "DTEND") == (starts + timedelta(minutes=90)).strftime(
            "%Y%m%dT%H%M%SZ")
        assert int(_field(ics, "SEQUENCE")) > int(_field(before, "SEQUENCE"))

    with running.portal.sessions() as db:
        kinds = [(n.recipient_id, n.kind) for n in db.scalars(select(Notification).where(
            Notification.object_id == meeting_id, Notification.kind == "meeting.changed"))]
    # Everyone invited but the chair who moved it (nobody is told what they did).
    assert sorted(kinds) == sorted((stable_id("person", p), "meeting.changed")
                                   for p in INVITEES if p != "ib")

    delivered = wait_for_mail(running, len(invitations) + len(INVITEES))
    moved = [m for m in delivered if m.subject.startswith("Een MDO is gewijzigd")]
    assert len(moved) == len(INVITEES)
    for message in moved:
        assert len(message.recipients) == 1
        assert message.attachments == ("mdo.ics",)
        for part in decoded_parts(message):
            for secret in (*FORBIDDEN, *SECRETS):
                assert secret not in part


def test_a_second_move_raises_the_sequence_again_and_a_cancellation_follows_it(
        running: Running) -> None:
    meeting_id = schedule(running, invite_family="")
    chair = _chair(running, meeting_id)
    for days in (5, 6):
        assert chair.submit(f"/meetings/{meeting_id}/move",
                            _new_time(running, days)[0]).status_code == 200
    mentor = "mentor@demo.mdo-portaal.test"
    sequences = sorted(int(_field(m.calendar or "", "SEQUENCE"))
                       for m in _outbox(running, "meeting.changed") if m.recipient == mentor)
    assert sequences == [1, 2]
    chair.submit(f"/meetings/{meeting_id}/cancel")
    cancel = next(m for m in _outbox(running, "meeting.cancelled") if m.recipient == mentor)
    assert _field(cancel.calendar or "", "METHOD") == "CANCEL"
    assert _field(cancel.calendar or "", "SEQUENCE") == "2"


def test_an_invited_participant_who_is_not_chair_cannot_move(running: Running) -> None:
    meeting_id = schedule(running, invite_family="")
    before = _state(running, meeting_id)
    mentor = running.client()
    mentor.login("mentor")
    page = mentor.page(f"/meetings/{meeting_id}")
    assert page.status_code == 200
    assert f"/meetings/{meeting_id}/move" not in page.text
    refused = mentor.submit(f"/meetings/{meeting_id}/move", _new_time(running, 5)[0])
    assert refused.status_code == 403
    assert _state(running, meeting_id) == before
    assert _outbox(running, "meeting.changed") == []
    with running.portal.sessions() as db:
        denied = db.scalars(select(AccessRecord.outcome).where(
            AccessRecord.event_type == "meeting.move",
            AccessRecord.user_id == stable_id("person", "mentor"))).all()
    assert denied == ["denied"]


def test_a_past_date_is_refused_with_the_error_summary(running: Running) -> None:
    meeting_id = schedule(running, invite_family="")
    before = _state(running, meeting_id)
    chair = _chair(running, meeting_id)
    form = {**_new_time(running, -1)[0], "duration": "45"}
    refused = chair.submit(f"/meetings/{meeting_id}/move", form)
    assert refused.status_code == 400
    body = refused.text
    assert 'class="error-summary"' in body
    assert '<a href="#move-date">Kies een datum en tijd in de toekomst.</a>' in body
    assert 'id="move-meeting-form" open' in body, "the form is open again"
    assert f'value="{form["date"]}"' in body, "what was typed is kept"
    assert _state(running, meeting_id) == before
    assert _outbox(running, "meeting.changed") == []


def test_a_cancelled_meeting_cannot_be_moved(running: Running) -> None:
    meeting_id = schedule(running, invite_family="")
    chair = _chair(running, meeting_id)
    chair.submit(f"/meetings/{meeting_id}/cancel")
    before = _state(running, meeting_id)
    page = chair.page(f"/meetings/{meeting_id}")
    assert f"/meetings/{meeting_id}/move" not in page.text
    refused = chair.submit(f"/meetings/{meeting_id}/move", _new_time(running, 5)[0])
    assert refused.status_code == 400
    assert "Een geannuleerd overleg kan niet worden verplaatst." in refused.text
    # The summary's entry leads to something on the page (the form is not there).
    assert 'href="#meeting-facts"' in refused.text and 'id="meeting-facts"' in refused.text
    assert _state(running, meeting_id) == before
    assert _outbox(running, "meeting.changed") == []
