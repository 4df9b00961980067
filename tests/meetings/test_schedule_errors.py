"""Scheduling refused: the page says "Fout:", keeps what was typed, and its error
summary links each problem to its field (not one line naming no field)."""

from __future__ import annotations

import re

from tests.harness import Running
from tests.meetings.test_meetings import CASE_PATH

SUMMARY = re.compile(r'<div class="error-summary"[^>]*>(.*?)</div>', re.S)


def test_a_refused_schedule_links_each_error_to_its_field(running_sqlite: Running) -> None:
    chair = running_sqlite.client()
    chair.login("ib")
    chair.page(f"{CASE_PATH}/meetings/new")
    refused = chair.post(f"{CASE_PATH}/meetings", data={
        "date": "", "time": "", "duration": "60", "place": "", "agenda": "Rustig bespreken",
        "csrf_token": chair.csrf})
    assert refused.status_code == 400
    body = refused.text
    assert re.search(r"<title>Fout: ", body)
    summary = SUMMARY.search(body)
    assert summary is not None
    targets = re.findall(r'<a href="#([^"]+)">', summary.group(1))
    fields = set(re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', body))
    assert {"date", "place"} <= set(targets)
    assert any(t.startswith("agenda-category-") for t in targets), "no kind was chosen"
    assert set(targets) <= fields, "every entry leads to a field on the page"
    assert "Rustig bespreken" in body, "what was typed is kept"
