"""The case page loads its case's facts once and decides its sections with its own read:
its SQL statements do not grow with the meetings, documents and minutes on it."""

from __future__ import annotations

import difflib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.service import Requester
from portal.cases.gate import authorize
from portal.cases.loaded import load_case
from portal.cases.models import CaseParticipant
from portal.demo import stable_id
from portal.errors import AccessDenied
from portal.minutes.models import MinutesSection
from portal.notifications import service as notifications
from portal.policy import Action
from portal.web.endpoint import _load_actor
from tests.documents.helpers import CASE_ID, CASE_PATH, upload
from tests.harness import PortalClient, Running
from tests.minutes.helpers import MEETING_ID, save, section
from tests.perf.statements import counted

# Before its facts were loaded once, the demo case page ran ~66 statements, and
# each meeting and document on it added more; 48 with the facts passed on to its
# sections, 30 with them memoised per transaction (portal.cases.loaded). What a tab
# runs now (overview: 15 on SQLite, 14 on PostgreSQL; the other tabs 12 to 14; the
# consent page 12/11 (37 before), a meeting's page 13/12 (24 before); those two wrote
# their records in two inserts until records were chained at the commit):
# - the request's own: BEGIN (SQLite only), its web session, its person with
#   memberships and unread notification count;
# - the case: its row with child, organisation kind and consent rule, chair vacancy,
#   restrictions, break-glass grants and the case's and child's wrapped keys; its
#   participants with names and membership roles;
# - the consent facts: the child's adults with custody records, names and name keys;
#   the consents; the legal grounds;
# - the tab's section, decided before the page's records: meetings with invitees and
#   action items with their keys, or documents with versions and their keys;
# - what the tab shows beyond its records: the minutes' states, the people to add
#   (overview), the documents' erasures;
# - at the commit, the audit chain: its head locked, the page's records in one
#   insert, the head stored — and nothing else while the head is held.
CASE_PAGE_MAX = 15
_LOG_TABLES = ("access_record", "audit_chain_head", "audit_day_count", "audit_checkpoint")
MEETING_PATH = f"/meetings/{MEETING_ID}"
CONSENT_PATH = f"{CASE_PATH}/consent"
# The case page's tabs (each loads the case once and only its own part), its consent
# page and a meeting's page: none grows with the case's content.
TABS = (CASE_PATH, f"{CASE_PATH}/meetings", f"{CASE_PATH}/documents", f"{CASE_PATH}/actions")
PAGES = (*TABS, CONSENT_PATH, MEETING_PATH)


def _schedule(running: Running, chair: PortalClient, hour: int) -> None:
    day = (running.clock.now + timedelta(days=3)).date().isoformat()
    chair.page(f"{CASE_PATH}/meetings/new")
    response = chair.post(f"{CASE_PATH}/meetings", data={
        "date": day, "time": f"{hour:02d}:{hour % 4 * 15:02d}", "duration": "60",
        "place": "Kamer 7", "agenda": "overleg", "category": "behaviour",
        "csrf_token": chair.csrf, "invitee": [stable_id("person", "mentor")]})
    assert response.status_code == 200, response.text


def _add(running: Running, chair: PortalClient, writer: PortalClient, *, meetings: int,
         documents: int, sections: int, start: int) -> None:
    for n in range(meetings):
        _schedule(running, chair, 8 + (start + n) % 10)
    chair.page(CASE_PATH)
    for n in range(documents):
        response = upload(chair, b"bijlage %d" % n, f"bijlage-{start}-{n}.txt")
        assert response.status_code == 200, response.text
    # A form takes 200 fields: 25 sections (six fields each) a save, each save a version.
    for first in range(0, sections, 25):
        written = save(writer, *(section(f"Punt {start}-{n}", f"Besproken {n}.")
                                 for n in range(first, min(first + 25, sections))))
        assert written.status_code == 200, written.text


def _statements(running: Running, client: PortalClient, path: str) -> list[str]:
    client.page(path)  # the same page once before: nothing left over from the writes
    with counted(running.portal.engine) as statements:
        page = client.get(path)
    assert page.status_code == 200, page.text
    return statements.of_requests()


def _counts(running: Running) -> tuple[int, int]:
    with running.portal.sessions() as db:
        sections = db.scalar(select(func.count()).select_from(MinutesSection)) or 0
        return sections, len(db.execute(select(CaseParticipant.id)
                                        .where(CaseParticipant.case_id == CASE_ID)).all())


def _while_the_head_is_held(statements: list[str]) -> list[str]:
    """What a request runs from the moment it locks the chain head that is not the log."""
    locked = next(n for n, sql in enumerate(statements) if "audit_chain_head" in sql)
    return [sql for sql in statements[locked:] if not any(t in sql for t in _LOG_TABLES)]


def _same(few: list[str], many: list[str]) -> str:
    return "\n".join(difflib.unified_diff(few, many, lineterm=""))


def test_case_page_statements_do_not_grow_with_its_content(running: Running) -> None:
    chair = running.client()
    chair.login("ib")
    writer = running.client()
    writer.login("notulist")
    _add(running, chair, writer, meetings=1, documents=2, sections=2, start=0)
    few = {path: _statements(running, chair, path) for path in PAGES}
    _add(running, chair, writer, meetings=9, documents=28, sections=50, start=1)
    sections, _ = _counts(running)
    assert sections >= 50
    many = {path: _statements(running, chair, path) for path in PAGES}
    assert chair.get(f"{CASE_PATH}/meetings").text.count('href="/meetings/') >= 10
    assert "bijlage-1-27.txt" in chair.get(f"{CASE_PATH}/documents").text
    # The consent page and a meeting's page share the case's load and keep the bound too.
    for path in PAGES:
        assert len(many[path]) <= CASE_PAGE_MAX, path + "\n" + "\n".join(many[path])
    for path in PAGES:
        assert len(many[path]) == len(few[path]), _same(few[path], many[path])
    # The records are chained at the commit: the head is not held while the page
    # is decrypted and rendered (the reads after the records come before the lock).
    for path in PAGES:
        assert _while_the_head_is_held(many[path]) == [], path + "\n" + "\n".join(many[path])
        inserts = [sql for sql in many[path] if sql.startswith("INSERT INTO access_record")]
        assert len(inserts) == 1, path + ": all of a page's records in one insert"


def test_a_decision_after_a_write_sees_the_write(running: Running) -> None:
    """What one request remembered of a case is dropped when it writes: a participant
    removed in the same transaction is refused at once."""
    portal = running.portal
    mentor_id = stable_id("person", "mentor")
    with portal.sessions() as db:
        actor = _load_actor(db, mentor_id)
        assert actor is not None
        who = Requester(user_id=mentor_id, user_name=actor.name, user_role="mentor",
                        organisation_id=None, session_ref=None, client_address=None)
        now = running.clock.now
        facts = authorize(db, who, actor, now, Action.CASE_VIEW, CASE_ID,
                          event_type="case.view", action_code="read")
        assert mentor_id in facts.participants
        participant = db.scalars(select(CaseParticipant).where(
            CaseParticipant.case_id == CASE_ID,
            CaseParticipant.person_id == mentor_id)).one()
        db.delete(participant)
        with pytest.raises(AccessDenied) as denied:
            authorize(db, who, actor, now, Action.CASE_VIEW, CASE_ID,
                      event_type="case.view", action_code="read")
        assert denied.value.decision.reason == "not_a_participant"
        db.rollback()


def test_the_unread_count_read_with_the_person_follows_a_write(running: Running) -> None:
    """The header's count comes with the request's person; marking notifications read or
    a new one in the same transaction is seen at once."""
    portal = running.portal
    mentor_id = stable_id("person", "mentor")
    now = running.clock.now
    with portal.sessions() as db:
        notifications.notify(db, now, notifications.Kind.ADDED_TO_CASE, [mentor_id],
                             object_type="case", object_id=CASE_ID, case_id=CASE_ID)
        db.commit()
        assert _load_actor(db, mentor_id) is not None
        before = notifications.unread_count(db, mentor_id)
        assert before >= 1
        notifications.notify(db, now, notifications.Kind.ADDED_TO_CASE, [mentor_id],
                             object_type="case", object_id=CASE_ID, case_id=CASE_ID)
        assert notifications.unread_count(db, mentor_id) == before + 1
        notifications.mark_all_read(db, mentor_id, now)
        assert notifications.unread_count(db, mentor_id) == 0
        db.rollback()


def test_keys_read_with_a_case_last_one_transaction(running: Running) -> None:
    """The case's wrapped key, read with the case, opens its title without a look-up in
    that transaction; after its commit the key is looked up again (never kept longer)."""
    portal = running.portal
    with portal.sessions() as db:
        loaded = load_case(db, CASE_ID)
        assert loaded is not None
        title_ct = loaded.case.title_ct
        with counted(portal.engine) as inside:
            portal.vault.key_for(db, title_ct)
        db.commit()
        with counted(portal.engine) as after:
            portal.vault.key_for(db, title_ct)
        db.rollback()
    assert not [sql for _, sql in inside if "data_key" in sql]
    assert [sql for _, sql in after if "FROM data_key" in sql]
