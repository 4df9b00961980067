"""A row of the FG's log narrows the search to its case or its child in one click:
"Alleen deze casus" / "Alleen dit kind", from the ids already on the record."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from portal.audit.service import record
from portal.policy import Allow
from tests.audit.test_log_by_name import CASE_ID, NOOR_CASE, WHO, _fg, _seqs
from tests.audit.test_views import NOOR, SAM, records
from tests.harness import Running

ONLY = re.compile(r'<a href="(/audit\?[^"]*)">Alleen (deze casus|dit kind)'
                  r'<span class="visually-hidden"> \(([0-9a-f]{8})\)</span></a>')


def links(body: str) -> dict[tuple[str, str], str]:
    """(which, id prefix) -> the link's query, for every row's filter link."""
    return {(which, prefix): unescape(href) for href, which, prefix in ONLY.findall(body)}


def seed(running: Running) -> None:
    with running.portal.sessions.begin() as db:
        for case_id, child_id in ((CASE_ID, SAM), (NOOR_CASE, NOOR), (NOOR_CASE, None)):
            record(db, WHO, running.clock.now, event_type="item.read", action="read",
                   decision=Allow(basis="participant"), case_id=case_id, child_id=child_id)


def test_each_row_offers_its_case_and_child_and_the_links_narrow_the_log(
        running: Running) -> None:
    seed(running)
    dpo = _fg(running)
    page = dpo.page("/audit?outcome=allowed")
    offered = links(page.text)
    only_noor = offered[("dit kind", NOOR[:8])]
    only_noor_case = offered[("deze casus", NOOR_CASE[:8])]
    assert ("dit kind", SAM[:8]) in offered and ("deze casus", CASE_ID[:8]) in offered

    # The filter of the search is kept; the row's id is added (no page cursor).
    query = parse_qs(urlsplit(only_noor).query)
    assert query == {"outcome": ["allowed"], "child": [NOOR]}

    about_noor = {r.seq for r in records(running, child_id=NOOR) if r.outcome == "allowed"}
    assert set(_seqs(dpo.page(only_noor).text)) == about_noor
    noor_case = {r.seq for r in records(running, case_id=NOOR_CASE) if r.outcome == "allowed"}
    shown = set(_seqs(dpo.page(only_noor_case).text))
    assert shown == noor_case and shown != about_noor, "the case has a record without child"


def test_a_row_without_case_or_child_offers_no_link(running_sqlite: Running) -> None:
    dpo = _fg(running_sqlite)
    dpo.page("/audit")  # the FG's searches are recorded, about no case or child
    body = dpo.page("/audit?person=Fenna").text
    shown = set(_seqs(body))
    assert shown, "the FG's own records are listed"
    listed = [r for r in records(running_sqlite) if r.seq in shown]
    assert all(r.case_id is None and r.child_id is None for r in listed)
    assert links(body) == {}
