"""The start pages list the reader's newest notifications: their own, newest first,
at most five, unread ones marked in words, and the way to the whole inbox."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.demo import stable_id
from portal.notifications import service
from portal.notifications.models import Notification
from tests.harness import Running
from tests.notifications.test_inbox import CASE_ID, LEADER, MENTOR, login

PARENT = stable_id("person", "ouder1")
KINDS = [service.Kind.ADDED_TO_CASE, service.Kind.MEETING_SCHEDULED,
         service.Kind.MINUTES_APPROVED, service.Kind.CONSENT_GIVEN,
         service.Kind.ACTION_ITEM_ASSIGNED, service.Kind.MEETING_CANCELLED,
         service.Kind.CONSENT_WITHDRAWN]
ROW = re.compile(r'<li( class="unread")?>\s*<a href="/inbox/([0-9a-f-]{36})">(.*?)</a>', re.S)


def seed(running: Running, person_id: str, *, family: bool = False) -> list[str]:
    """Seven notifications an hour apart (oldest first), the even ones already read,
    and one for somebody else that is newer than all of them; their ids, oldest first."""
    now = running.clock.now
    ids = []
    with running.portal.sessions.begin() as db:
        for hour, kind in enumerate(KINDS):
            row = Notification(recipient_id=person_id, kind=kind.value, object_type="case",
                               object_id=CASE_ID, case_id=CASE_ID, family=family,
                               created_at=now - timedelta(hours=10 - hour),
                               read_at=now if hour % 2 == 0 else None, mailed_at=now)
            db.add(row)
            db.flush()
            ids.append(row.id)
        db.add(Notification(recipient_id=LEADER, kind=service.Kind.BIRTHDAY.value,
                            object_type="case", object_id=CASE_ID, case_id=CASE_ID,
                            created_at=now - timedelta(minutes=1), mailed_at=now))
    return ids


def latest_section(body: str) -> str:
    start = body.index('aria-labelledby="latest-notifications-heading"')
    return body[start:body.index("</section>", start)]


def rows(section: str) -> list[tuple[str, bool, str]]:
    return [(found.group(2), bool(found.group(1)), found.group(3))
            for found in ROW.finditer(section)]


@pytest.mark.parametrize(("persona", "person_id", "path", "family"), [
    ("mentor", MENTOR, "/", False), ("ouder1", PARENT, "/family", True)])
def test_the_start_page_lists_the_readers_five_newest(running: Running, persona: str,
                                                      person_id: str, path: str,
                                                      family: bool) -> None:
    ids = seed(running, person_id, family=family)
    section = latest_section(login(running, persona).page(path).text)
    listed = rows(section)
    newest_five = list(reversed(ids))[:5]
    assert [row_id for row_id, _unread, _text in listed] == newest_five, "own, newest first"
    # The newest (hour 6) is read, hour 5 unread, and so on: marked in words, not colour.
    assert [unread for _id, unread, _text in listed] == [False, True, False, True, False]
    for _row_id, unread, text in listed:
        assert ("ongelezen" in text) is unread
    assert "Er is toestemming ingetrokken in een casus" in listed[0][2]
    assert "verjaardag" not in section, "another person's notification is not listed"
    assert 'href="/inbox">Alle meldingen</a>' in section


def test_latest_is_the_inbox_cut_to_five(running_sqlite: Running) -> None:
    seed(running_sqlite, MENTOR)
    with running_sqlite.portal.sessions() as db:
        assert service.latest(db, MENTOR) == service.inbox(db, MENTOR)[:5]
        assert len(service.inbox(db, MENTOR)) == len(KINDS)


def test_no_notifications_is_said_in_words(running_sqlite: Running) -> None:
    section = latest_section(login(running_sqlite, "fg").page("/").text)
    assert rows(section) == []
    assert "U hebt geen meldingen." in section
    assert 'href="/inbox">Alle meldingen</a>' in section
