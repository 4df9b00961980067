"""Notifications of the minutes' and consent's events, each written where it happens."""

from __future__ import annotations

from sqlalchemy import select

from portal.cases.models import CaseParticipant
from portal.consent.models import ConsentRecord
from portal.demo import stable_id
from portal.meetings.models import MeetingInvitee
from portal.minutes.models import MinutesCorrection
from tests.harness import Running
from tests.minutes.helpers import (
    CASE_ID,
    MEETING_ID,
    MINUTES,
    keys_by_heading,
    logged_in,
    save,
    section,
)
from tests.notifications.test_inbox import CHAIR, MENTOR, notifications_of

NOTULIST = stable_id("person", "notulist")


def kinds(running: Running, person_id: str) -> list[str]:
    return [row.kind for row in notifications_of(running, person_id)]


def test_minutes_approval_and_corrections_reach_the_right_people(
        running_sqlite: Running) -> None:
    writer = logged_in(running_sqlite, "notulist")
    save(writer, section("Aanwezigheid", "Sam was drie keer te laat.", shared=True))
    assert writer.submit(f"{MINUTES}/submit").status_code == 200
    [waiting] = notifications_of(running_sqlite, CHAIR)
    assert (waiting.kind, waiting.object_type, waiting.object_id) == (
        "minutes.to_approve", "minutes", MEETING_ID)
    chair = logged_in(running_sqlite, "ib")
    chair.page(MINUTES)
    assert chair.get(f"/inbox/{waiting.id}").url.path == MINUTES

    assert chair.submit(f"{MINUTES}/approve", {"version": "1"}).status_code == 200
    with running_sqlite.portal.sessions() as db:
        invitees = dict(db.execute(select(MeetingInvitee.person_id, MeetingInvitee.family)
                                   .where(MeetingInvitee.meeting_id == MEETING_ID)).all())
        participants = set(db.scalars(select(CaseParticipant.person_id).where(
            CaseParticipant.case_id == CASE_ID)))
    everyone = set(invitees) | participants | {stable_id("person", "ouder2")}
    told = {person_id for person_id in everyone
            if "minutes.approved" in kinds(running_sqlite, person_id)}
    assert told == (set(invitees) | participants) - {CHAIR}, "all but the approver"
    assert MENTOR in told
    for person_id, family in invitees.items():
        if person_id != CHAIR:
            [row] = [r for r in notifications_of(running_sqlite, person_id)
                     if r.kind == "minutes.approved"]
            assert row.family == family

    keys = keys_by_heading(running_sqlite, 1, ["fact"])
    mentor = logged_in(running_sqlite, "mentor")
    mentor.page(MINUTES)
    assert mentor.submit(f"{MINUTES}/corrections", {
        "section": keys["fact"], "text": "Sam was twee keer te laat.",
        "reason": "Telfout"}).status_code == 200
    assert kinds(running_sqlite, CHAIR)[-1] == "correction.proposed"
    with running_sqlite.portal.sessions() as db:
        correction_id = db.scalars(select(MinutesCorrection.id)).one()
    chair.page(MINUTES)
    assert chair.submit(f"{MINUTES}/corrections/{correction_id}/accept").status_code == 200
    assert kinds(running_sqlite, MENTOR) == ["minutes.approved", "correction.decided",
                                             "minutes.approved"]


def test_a_withdrawn_consent_tells_the_chair(running_sqlite: Running) -> None:
    with running_sqlite.portal.sessions() as db:
        consent_id = db.scalars(select(ConsentRecord.id).where(
            ConsentRecord.case_id == CASE_ID,
            ConsentRecord.consenter_person_id == stable_id("person", "ouder1"),
            ConsentRecord.withdrawn_at.is_(None))).first()
    assert consent_id is not None
    mother = logged_in(running_sqlite, "ouder1")
    path = f"/family/cases/{CASE_ID}/consents/{consent_id}/withdraw"
    mother.page(path)
    assert "Uw toestemming is ingetrokken" in mother.submit(path).text
    [row] = notifications_of(running_sqlite, CHAIR)
    assert (row.kind, row.object_type, row.object_id, row.case_id) == (
        "consent.withdrawn", "consent", consent_id, CASE_ID)
    assert notifications_of(running_sqlite, stable_id("person", "ouder1")) == []
    chair = logged_in(running_sqlite, "ib")
    assert chair.get(f"/inbox/{row.id}").url.path == f"/cases/{CASE_ID}/consent"
