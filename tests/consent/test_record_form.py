"""The consent page's "record a signed form": behind a button until asked for, open
again with an error summary whose entries reach the fields when the form is refused."""

from __future__ import annotations

import re

from tests.consent._portal import person
from tests.consent.test_portal import SAM_CASE, logged_in, record_signed
from tests.harness import Running

PAGE = f"/cases/{SAM_CASE}/consent"
DISCLOSURE = re.compile(r'<details class="disclosure" id="record-consent-form"( open)?>')
SUMMARY = re.compile(r'<div class="error-summary"[^>]*>(.*?)</div>', re.S)


def field_ids(body: str) -> set[str]:
    return set(re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', body))


def test_the_form_is_closed_until_asked_for(running_sqlite: Running) -> None:
    body = logged_in(running_sqlite, "ib").page(PAGE).text
    found = DISCLOSURE.search(body)
    assert found is not None and found.group(1) is None, "closed on a plain visit"
    assert "Een ondertekend toestemmingsformulier vastleggen</summary>" in body
    assert SUMMARY.search(body) is None


def test_a_refused_form_comes_back_open_with_a_summary_linked_to_its_fields(
        running: Running) -> None:
    chair = logged_in(running, "ib")
    refused = record_signed(chair, SAM_CASE, person("pleegouder"), [], [],
                            form_seen=False)
    assert refused.status_code == 400
    body = refused.text
    found = DISCLOSURE.search(body)
    assert found is not None and found.group(1) == " open"
    assert re.search(r"<title>Fout: ", body)
    summary = SUMMARY.search(body)
    assert summary is not None
    targets = re.findall(r'<a href="#([^"]+)">', summary.group(1))
    # Who signed, which information, shared with whom, the form seen: each its own entry.
    assert len(targets) == 4, targets
    assert set(targets) <= field_ids(body), "every entry leads to a field on the page"
    assert {"consenter", "form_seen", "recipient-1"} <= set(targets)
    assert any(target.startswith("category-") for target in targets)
    assert "Bevestig dat u het ondertekende formulier hebt gezien" in summary.group(1)


def test_a_break_glass_error_is_summarised_with_a_link_to_its_field(
        running_sqlite: Running) -> None:
    mentor = logged_in(running_sqlite, "mentor")
    mentor.page(PAGE)
    refused = mentor.submit(f"/cases/{SAM_CASE}/break-glass", {"reason": "zorgen"})
    assert refused.status_code == 400
    summary = SUMMARY.search(refused.text)
    assert summary is not None and 'href="#break-glass-reason"' in summary.group(1)
    assert "break-glass-reason" in field_ids(refused.text)
    assert DISCLOSURE.search(refused.text) is None, "the mentor records no signed forms"
