"""`portal consent check` and the web portal give the same answer on a table of scenarios.

Each scenario is put through the CLI (a subprocess, JSON in, JSON out) and built
as real rows in a running portal (child with encrypted birthdate, adults with
their relations and custody records, a case, consent rows); a professional then
logs in and the case page says, per category, whether they may read it.
"""

from __future__ import annotations

import io
import json
import sys
from datetime import date, timedelta
from typing import Any

import pytest

from portal.cases.models import CaseRole
from portal.cli import main as cli_main
from portal.consent.models import OrganisationConsentRule
from portal.consent.rules import OrganisationRule
from tests.consent._portal import build_world, noon, org, your_access
from tests.consent.test_portal import logged_in
from tests.harness import PortalClient, Running

ON = date(2026, 11, 28)
LABELS = {"behaviour": "Gedrag", "health": "Gezondheid", "school_progress": "Schoolvorderingen"}
READER = {"school": ("mentor", "het-baken"), "youth_care": ("jeugdhulp", "jeugdhulp-noord")}


def years_before(years: int, days: int = 0) -> str:
    return (date(ON.year - years, ON.month, ON.day) + timedelta(days=days)).isoformat()


def scenario(name: str, *, born: str, setting: str = "school", basis: str = "consent",
             adults: list[dict[str, Any]] | None = None,
             consents: list[dict[str, Any]] | None = None, category: str = "behaviour",
             rule: str | None = None,
             grounds: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "on": ON.isoformat(), "child": {"birthdate": born}, "setting": setting, "basis": basis,
        "adults": adults if adults is not None else [
            {"id": "A", "relation": "parent", "custody": True},
            {"id": "B", "relation": "parent", "custody": True}],
        "consents": consents or [],
        "request": {"category": category, "recipient": "org:R"}}
    if rule:
        data["organisation_rule"] = rule
    if grounds:
        data["grounds"] = grounds
    return {"name": name, "json": data}


def ground(basis: str, recipients: list[str], categories: list[str],
           **extra: Any) -> dict[str, Any]:
    return {"basis": basis, "recipients": recipients, "categories": categories,
            "valid_from": "2026-01-01", **extra}


def by(who: str, *categories: str, **extra: Any) -> dict[str, Any]:
    return {"by": who, "categories": list(categories or ("behaviour",)), "recipients": ["org:R"],
            "valid_from": "2026-01-01", **extra}


SCENARIOS = [
    scenario("13, school, both parents", born=years_before(13, -40),
             consents=[by("A"), by("B")]),
    scenario("13, school, one parent", born=years_before(13, -40), consents=[by("A")]),
    scenario("13, school, one parent suffices by the school's rule", born=years_before(13, -40),
             consents=[by("A")], rule="one_custodian"),
    scenario("day before the 12th birthday, youth care, parents", born=years_before(12, 1),
             setting="youth_care", consents=[by("A"), by("B")]),
    scenario("12th birthday, youth care, parents only", born=years_before(12),
             setting="youth_care", consents=[by("A"), by("B")]),
    scenario("12th birthday, youth care, parents and child", born=years_before(12),
             setting="youth_care", consents=[by("A"), by("B"), by("child")]),
    scenario("16th birthday, parents' consent no longer counts", born=years_before(16),
             consents=[by("A"), by("B")]),
    scenario("16, the young person consented", born=years_before(16, -3),
             consents=[by("child")]),
    scenario("unmarried father without custody application", born=years_before(9),
             adults=[{"id": "A", "relation": "parent",
                      "custody_facts": {"relationship": "unmarried", "is_mother": True}},
                     {"id": "B", "relation": "parent",
                      "custody_facts": {"relationship": "unmarried", "is_mother": False}}],
             consents=[by("A")]),
    scenario("a foster parent's consent does not count", born=years_before(9),
             adults=[{"id": "A", "relation": "parent", "custody": True},
                     {"id": "F", "relation": "foster_parent"}], consents=[by("F")]),
    scenario("category not covered", born=years_before(9), consents=[by("A"), by("B")],
             category="health"),
    scenario("withdrawn today", born=years_before(9),
             consents=[by("A", withdrawn_on=ON.isoformat()), by("B")]),
    scenario("expired yesterday", born=years_before(9),
             consents=[by("A", valid_until=(ON - timedelta(days=1)).isoformat()), by("B")]),
    # Scoped grounds (issue 12): the portal stores them as the grounds page does.
    scenario("legal ground: TLV, within its scope", born=years_before(9), category="health",
             grounds=[ground("tlv_or_extra_support", ["org:R"], ["health"])]),
    scenario("legal ground: TLV, another category", born=years_before(9),
             category="behaviour", grounds=[ground("tlv_or_extra_support", ["org:R"],
                                                   ["health"])]),
    scenario("legal ground: OTS for someone else", born=years_before(9), category="health",
             adults=[{"id": "A", "relation": "parent", "custody": True},
                     {"id": "E", "relation": "youth_protector_ots"}],
             grounds=[ground("ots", ["role:youth_protector"], ["health"])]),
    scenario("legal ground: vital interest, ended today", born=years_before(9),
             category="health", grounds=[ground("vital_interest", ["org:R"], ["health"],
                                                ended_on=ON.isoformat())]),
    scenario("legal ground: vital interest, last day", born=years_before(9),
             category="health", grounds=[ground("vital_interest", ["org:R"], ["health"],
                                                valid_until=ON.isoformat())]),
]


def cli_answer(data: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
               capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """The scenario through the ``portal`` command's own entry point (argv, stdin, stdout).

    In-process to keep the table quick; tests/consent/test_cli.py runs the same
    command as a subprocess."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(data)))
    assert cli_main(["consent", "check", "-"]) == 0, capsys.readouterr().err
    answer: dict[str, Any] = json.loads(capsys.readouterr().out)
    return answer


def set_rule(running: Running, rule: str | None) -> None:
    with running.portal.sessions() as db:
        row = db.get(OrganisationConsentRule, org("het-baken"))
        if rule is None and row is not None:
            db.delete(row)
        elif rule is not None:
            db.merge(OrganisationConsentRule(organisation_id=org("het-baken"),
                                             rule=OrganisationRule(rule), warning_days=60))
        db.commit()


def portal_answer(running: Running, readers: dict[str, PortalClient],
                  data: dict[str, Any]) -> bool:
    persona, slug = READER[data["setting"]]
    set_rule(running, data.get("organisation_rule"))
    world = build_world(running, birthdate=date.fromisoformat(data["child"]["birthdate"]),
                        adults=data["adults"], consents=data["consents"],
                        participants=[("ib", CaseRole.CHAIR), (persona, CaseRole.PARTICIPANT)],
                        basis=data["basis"], recipient_of={"org:R": f"org:{org(slug)}"},
                        grounds=data.get("grounds"))
    page = readers[persona].page(f"/cases/{world.case_id}")
    assert page.status_code == 200
    return your_access(page.text)[LABELS[data["request"]["category"]]]


def test_cli_and_portal_agree(running_sqlite: Running, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    expected = [cli_answer(case["json"], monkeypatch, capsys) for case in SCENARIOS]
    assert {answer["allowed"] for answer in expected} == {True, False}
    on_grounds = {case["name"]: (answer["allowed"], answer["legal_ground"])
                  for case, answer in zip(SCENARIOS, expected, strict=True)
                  if "grounds" in case["json"]}
    assert on_grounds == {
        "legal ground: TLV, within its scope": (True, "tlv_or_extra_support"),
        "legal ground: TLV, another category": (False, None),
        "legal ground: OTS for someone else": (False, None),
        "legal ground: vital interest, ended today": (False, None),
        "legal ground: vital interest, last day": (True, "vital_interest")}
    running_sqlite.clock.now = noon(ON)
    readers = {persona: logged_in(running_sqlite, persona) for persona, _ in READER.values()}
    disagree = [(case["name"], answer["allowed"], answer["reason"])
                for case, answer in zip(SCENARIOS, expected, strict=True)
                if portal_answer(running_sqlite, readers, case["json"]) is not answer["allowed"]]
    assert disagree == []
