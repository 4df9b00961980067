"""The case page loads its case's facts once: its SQL statements do not grow with
the meetings and documents on it."""

from __future__ import annotations

import difflib
from datetime import timedelta

from portal.demo import stable_id
from tests.documents.helpers import CASE_PATH, legacy_minutes, upload
from tests.harness import PortalClient, Running
from tests.perf.statements import counted

# Before its facts were loaded once, the demo case page ran ~66 statements, and
# each meeting and document on it added more. 47 since the case's facts also
# load its scoped legal grounds (one query); 48 since the header shows the unread
# notifications (one count, on every page).
CASE_PAGE_MAX = 48


def _schedule(running: Running, chair: PortalClient, hour: int) -> None:
    day = (running.clock.now + timedelta(days=3)).date().isoformat()
    response = chair.post(f"{CASE_PATH}/meetings", data={
        "date": day, "time": f"{hour:02d}:00", "duration": "60", "place": "Kamer 7",
        "agenda": "overleg", "category": "behaviour", "csrf_token": chair.csrf,
        "invitee": [stable_id("person", "mentor")]})
    assert response.status_code == 200, response.text
    chair.refresh_csrf(response.text)


def _add(running: Running, chair: PortalClient, meetings: int, documents: int,
         start: int) -> None:
    for n in range(meetings):
        _schedule(running, chair, 8 + start + n)
    for n in range(documents):
        if n % 2:
            assert upload(chair, b"bijlage %d" % n, f"bijlage-{start}-{n}.txt").status_code == 200
        else:
            legacy_minutes(running, "ib", f"Verslag {start}-{n}", "tekst")


# The case page's tabs: each loads the case once and only its own part.
TABS = ("", "/meetings", "/documents", "/actions")


def _statements(running: Running, client: PortalClient, tab: str) -> list[str]:
    with counted(running.portal.engine) as statements:
        page = client.get(CASE_PATH + tab)
    assert page.status_code == 200
    return statements.of_requests()


def test_case_page_statements_do_not_grow_with_its_content(running: Running) -> None:
    chair = running.client()
    chair.login("ib")
    chair.page(CASE_PATH)
    _add(running, chair, meetings=1, documents=2, start=0)
    few = {tab: _statements(running, chair, tab) for tab in TABS}
    _add(running, chair, meetings=4, documents=8, start=1)
    for tab in TABS:
        many = _statements(running, chair, tab)
        assert len(many) <= CASE_PAGE_MAX, tab + "\n" + "\n".join(many)
        assert len(many) == len(few[tab]), "\n".join(
            difflib.unified_diff(few[tab], many, lineterm=""))
