"""The access log and the FG's log show words, not codes.

What the policy wrote (``participant:chair;basis:consent``, ``not_a_participant``,
``case.view``, action code ``R``) stays in the record; the pages a person reads
show it in words. Every Deny reason the portal can write has a word, too.
"""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from pathlib import Path

from portal.audit.service import Requester, record
from portal.consent.access import STATUS_REASONS
from portal.demo import DEMO_CASE, stable_id
from portal.policy import Allow, Deny
from portal.web import i18n, labels
from tests.harness import PortalClient, Running
from tests.web.words import visible_text

ROOT = Path(__file__).resolve().parents[2]
CASE_ID = stable_id("case", DEMO_CASE.key)
SAM = stable_id("child", "sam")
# The policy's grammar and the log's codes, as they would leak into a page.
CODES = re.compile(r"\b[a-z_]+:[a-z0-9]|\([CRUDE]\)"
                   r"|\b\w+_\w+\b|\b(?:case|item|auth|audit|minutes|document)\.[a-z]")


def _requester(persona: str, role: str, organisation: str) -> Requester:
    return Requester(user_id=stable_id("person", persona), user_name=persona, user_role=role,
                     organisation_id=stable_id("org", organisation), session_ref="x",
                     client_address="127.0.0.1")


def _records_of_every_shape(running: Running) -> None:
    """Allowed, refused and failed records with the bases and reasons the policy writes."""
    ib = _requester("ib", "care_coordinator", "het-baken")
    youth = _requester("jeugdhulp", "youth_care_worker", "jeugdhulp-noord")
    now = running.clock.now - timedelta(minutes=5)
    shapes: list[tuple[Requester, str, str, Allow | Deny]] = [
        (ib, "case.view", "read", Allow(basis="participant:chair;basis:consent")),
        (ib, "item.read", "read", Allow(
            basis="participant:chair;consent:11111111-1111-4111-8111-111111111111")),
        (youth, "item.read", "read", Allow(
            basis="participant:participant;ground:vital_interest;duty:inform;scoped:g1")),
        (youth, "item.read", "read", Allow(
            basis="break_glass:77777777-7777-4777-8777-777777777777")),
        (youth, "item.read", "read", Deny(reason="consent_scope_category")),
        (youth, "minutes.export", "read", Deny(reason="consent_withdrawn")),
        (ib, "action_item.update", "update", Deny(reason="not_a_participant")),
        (ib, "family.case.view", "read", Deny(reason="family_no_right")),
        (ib, "case.participant.add", "create", Allow(basis="role:care_coordinator;school")),
    ]
    with running.portal.sessions.begin() as db:
        for who, event_type, action, decision in shapes:
            record(db, who, now, event_type=event_type, action=action, decision=decision,
                   case_id=CASE_ID, child_id=SAM, data_categories=["school_progress"])


def _codes_on(client: PortalClient, path: str) -> list[str]:
    page = client.page(path)
    assert page.status_code == 200, path
    return sorted(set(CODES.findall(visible_text(page.text))))


def test_the_fg_log_reads_as_words(running_sqlite: Running) -> None:
    _records_of_every_shape(running_sqlite)
    fg = running_sqlite.client()
    fg.login("fg")
    page = fg.page(f"/audit?case={CASE_ID}")
    text = visible_text(page.text)
    assert "deelnemer aan de casus als voorzitter" in text
    assert "buiten de toestemming (soort informatie)" in text or "buiten de toestemming" in text
    assert "niet betrokken bij de casus" in text or "geen deelnemer" in text
    assert _codes_on(fg, f"/audit?case={CASE_ID}") == []


def test_own_history_reads_as_words(running_sqlite: Running) -> None:
    _records_of_every_shape(running_sqlite)
    ib = running_sqlite.client()
    ib.login("ib")
    assert _codes_on(ib, "/my-access") == []


def test_who_looked_reads_as_words(running_sqlite: Running) -> None:
    _records_of_every_shape(running_sqlite)
    parent = running_sqlite.client()
    parent.login("ouder1")
    assert _codes_on(parent, f"/child-access/{SAM}") == []


def test_the_check_catches_a_code() -> None:
    leaked = "Casuspagina (R) participant:chair;scoped:g1 not_a_participant case.view"
    assert set(CODES.findall(leaked)) == {"(R)", "participant:c", "scoped:g",
                                          "not_a_participant", "case.v"}
    assert CODES.findall("Om 14:30 uur, zie https://portaal.example (gelezen)") == []


def _reason_literals() -> set[str]:
    """Every ``Deny(reason="...")`` the portal's code writes, found in its source."""
    found: set[str] = set()
    for path in (ROOT / "portal").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Deny":
                for keyword in node.keywords:
                    if keyword.arg == "reason" and isinstance(keyword.value, ast.Constant):
                        found.add(str(keyword.value.value))
    return found


def test_every_deny_reason_has_a_word() -> None:
    i18n.set_language("nl")
    reasons = _reason_literals() | {code for _status, code in STATUS_REASONS} | {
        "consent_missing", "no_custodian", "unknown_category", "consent_facts_invalid"}
    assert len(reasons) > 30, "the scan found too few reasons to mean anything"
    missing = sorted(r for r in reasons if r not in labels.REASON)
    assert missing == []
    for reason in reasons:
        word = labels.reason_text(reason)
        assert word and "_" not in word, (reason, word)


def test_every_event_type_has_a_word() -> None:
    i18n.set_language("nl")
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "portal").rglob("*.py"))
    events = set(re.findall(r'event_type="([a-z_.]+)"', source))
    assert len(events) > 50
    other = labels.event_text("unknown.event")
    assert sorted(e for e in events if labels.event_text(e) == other) == []
