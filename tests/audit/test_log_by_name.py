"""The FG's log: a child or case found by name through the blind index (the name never
kept in clear), and pages of 50 in a stable order."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from portal.audit import views
from portal.audit.models import AccessRecord
from portal.audit.service import Requester, record
from portal.demo import DEMO_CASE, stable_id
from portal.policy import Allow
from portal.search.models import SearchQuery
from tests.audit.test_views import NOOR, SAM, read_case, records
from tests.harness import PortalClient, Running

CASE_ID = stable_id("case", DEMO_CASE.key)
NOOR_CASE = stable_id("case", "noor-mdo")
WHO = Requester(user_id=stable_id("person", "ib"), user_name="Ilse Bakker",
                user_role="care_coordinator", organisation_id=stable_id("org", "het-baken"),
                session_ref="x", client_address="127.0.0.1")
ROW = re.compile(r'<tr>\s*<td>(\d+)</td>')


def _fg(running: Running) -> PortalClient:
    dpo = running.client()
    dpo.login("fg")
    return dpo


def _seqs(html: str) -> list[int]:
    return [int(n) for n in ROW.findall(html.split("<tbody", 1)[1])] if "<tbody" in html else []


def test_a_child_is_found_by_name_and_the_name_is_sealed(running_sqlite: Running) -> None:
    read_case(running_sqlite)  # records about Sam (the demo case)
    with running_sqlite.portal.sessions.begin() as db:  # a record about another child
        record(db, WHO, running_sqlite.clock.now, event_type="item.read", action="read",
               decision=Allow(basis="participant"), case_id=NOOR_CASE, child_id=NOOR)
    about_noor = records(running_sqlite, child_id=NOOR)
    assert about_noor, "the control: there are records about another child"
    page = _fg(running_sqlite).page("/audit?child=sam+mul")
    assert page.status_code == 200
    shown = set(_seqs(page.text))
    about_sam = {r.seq for r in records(running_sqlite, child_id=SAM)}
    assert shown and shown <= about_sam
    assert not shown & {r.seq for r in about_noor}
    # The search's own record and its sealed query hold no part of the name.
    search = records(running_sqlite, event_type="audit.search")[-1]
    assert search.query is not None and search.query.startswith("child=sealed%3A")
    assert "sam" not in search.query.lower() and "mul" not in search.query.lower()
    with running_sqlite.portal.sessions() as db:
        sealed = db.scalars(select(SearchQuery.query_ct)).all()
    assert sealed and all(b"sam" not in q.lower() for q in sealed)


def test_a_case_is_found_by_a_word_of_its_title(running_sqlite: Running) -> None:
    read_case(running_sqlite)
    dpo = _fg(running_sqlite)
    by_id = set(_seqs(dpo.page(f"/audit?case={CASE_ID}").text))
    by_title = set(_seqs(dpo.page("/audit?case=werkhouding").text))
    assert by_title and by_title == by_id
    assert _seqs(dpo.page("/audit?case=geenzogenaamdewoord").text) == []


def test_the_log_pages_by_fifty_in_a_stable_order(running_sqlite: Running) -> None:
    with running_sqlite.portal.sessions.begin() as db:
        for _ in range(120):
            record(db, WHO, running_sqlite.clock.now, event_type="item.read", action="read",
                   decision=Allow(basis="participant"), case_id=CASE_ID, child_id=SAM)
    dpo = _fg(running_sqlite)
    first = dpo.page("/audit?outcome=allowed")
    with running_sqlite.portal.sessions() as db:
        total = db.scalar(select(func.count()).select_from(AccessRecord)
                          .where(AccessRecord.outcome == "allowed"))
    assert total is not None and total > 100
    seen: list[int] = []
    page = first.text
    for _ in range(10):
        seqs = _seqs(page)
        assert len(seqs) <= 50 and seqs == sorted(seqs, reverse=True)
        seen += seqs
        older = re.search(r'href="/audit\?([^"]*before=\d+[^"]*)" rel="next"', page)
        if older is None:
            break
        assert "outcome=allowed" in unescape(older.group(1))  # the filters stay
        page = dpo.page("/audit?" + unescape(older.group(1))).text
        assert "Terug naar de nieuwste vastleggingen" in page
    # Every allowed record up to the first page's newest, each once, newest first
    # (the page views themselves add records above that).
    assert len(seen) == len(set(seen)) and seen == sorted(seen, reverse=True)
    assert len(_seqs(first.text)) == 50
    with running_sqlite.portal.sessions() as db:
        expected = list(db.scalars(select(AccessRecord.seq).where(
            AccessRecord.outcome == "allowed", AccessRecord.seq <= seen[0])
            .order_by(AccessRecord.seq.desc())))
    assert seen == expected


def test_a_broad_filter_is_counted_up_to_a_cap(running_sqlite: Running,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with running_sqlite.portal.sessions.begin() as db:
        for _ in range(40):
            record(db, WHO, running_sqlite.clock.now, event_type="item.read", action="read",
                   decision=Allow(basis="participant"), case_id=CASE_ID, child_id=SAM)
    dpo = _fg(running_sqlite)
    assert "40 van 40 vastleggingen, nieuwste eerst." in dpo.page(f"/audit?child={SAM}").text
    monkeypatch.setattr(views, "COUNT_CAP", 30)  # instead of writing 10,001 records
    capped = dpo.page(f"/audit?child={SAM}").text
    assert "van meer dan 10.000 vastleggingen, nieuwste eerst." in capped
    assert "meer dan" not in dpo.page("/audit?outcome=denied").text
