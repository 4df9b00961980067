"""Search: only cases the searcher may open, one access record per search (the query
sealed), and no plaintext word of a title or name in the database (canary)."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.db import unit_of_work
from portal.demo import DEMO_CASE, stable_id
from portal.search.index import drop_case, index_unindexed
from portal.search.models import SearchQuery, SearchToken
from portal.search.service import query_binding
from tests.cases.test_flow import create_case
from tests.documents.test_canary import needles, plant_control, server_log, stored_bytes
from tests.harness import PortalClient, Running

CASE_ID = stable_id("case", DEMO_CASE.key)
CANARY = "Kwartelkoning"  # a word nowhere else: in a case title only


def login(running: Running, persona: str) -> PortalClient:
    client = running.client()
    client.login(persona)
    return client


def search(client: PortalClient, text: str) -> str:
    response = client.get("/search", params={"q": text})
    assert response.status_code == 200, response.text
    return response.text


def test_a_participant_finds_a_case_by_child_name_and_title(running_sqlite: Running) -> None:
    ib = login(running_sqlite, "ib")
    found = search(ib, "mulder")
    assert f'href="/cases/{CASE_ID}"' in found and "Sam Mulder" in found
    assert f'href="/cases/{CASE_ID}"' in search(ib, "Mul")  # a prefix of a name
    assert f'href="/cases/{CASE_ID}"' in search(ib, "SAM werkhouding")  # every word
    assert f'href="/cases/{CASE_ID}"' not in search(ib, "sam kwartel")
    assert "Typ ten minste twee letters" in search(ib, "s")


def test_results_only_for_cases_the_searcher_may_open(running_sqlite: Running) -> None:
    assert f"/cases/{CASE_ID}" not in search(login(running_sqlite, "buitenstaander"), "sam")
    assert f"/cases/{CASE_ID}" not in search(login(running_sqlite, "schoolleider"), "sam")
    parent = login(running_sqlite, "ouder1")
    assert parent.get("/search", params={"q": "sam"}).status_code == 403


def assert_one_sealed_search(running: Running, typed: str) -> None:
    """The IB'er's search is one record whose query is sealed (only its ciphertext
    stored, opening to what was typed), and its one hit, the demo case, is decided."""
    portal = running.portal
    with portal.sessions() as db:
        [searched] = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "case.search")).all()
        assert searched.user_id == stable_id("person", "ib") and searched.outcome == "allowed"
        assert searched.query == f"sealed:{searched.object_id}"
        query = db.get_one(SearchQuery, searched.object_id)
        assert typed.encode() not in query.query_ct
        assert portal.vault.open(db, query.query_ct, query_binding(query.id)) == typed
        hits = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "case.search.hit")).all()
        assert [(h.case_id, h.outcome) for h in hits] == [(CASE_ID, "allowed")]


def test_every_search_is_one_record_with_the_query_sealed(running_sqlite: Running) -> None:
    search(login(running_sqlite, "ib"), "Mulder")
    assert_one_sealed_search(running_sqlite, "Mulder")


def test_no_plaintext_word_in_the_database_or_the_log(
        running: Running, database_url: str, caplog: pytest.LogCaptureFixture,
        capfd: pytest.CaptureFixture[str], request: pytest.FixtureRequest) -> None:
    caplog.set_level(logging.DEBUG)
    canary = f"Kwartel{uuid.uuid4().hex[:12]}"
    control = f"CONTROLE-{uuid.uuid4().hex}"
    case_id = create_case(running, persona="ib", title=f"Overleg {canary} groep 7")
    ib = login(running, "ib")
    prefix = canary[:11].lower()
    assert f"/cases/{case_id}" in search(ib, prefix)
    assert f"/cases/{case_id}" in search(ib, canary.upper())
    plant_control(running, control)
    secrets = [n for word in (canary, canary.lower(), canary.upper(), prefix)
               for n in needles(word)]
    stored = stored_bytes(running, database_url, request, "search_token")
    assert any(c in stored for c in needles(control))
    assert not any(s in stored for s in secrets)
    log = server_log(caplog) + "".join(capfd.readouterr())
    assert control in log
    assert canary.lower() not in log.lower() and prefix not in log.lower()
    with running.portal.sessions() as db:
        assert db.scalars(select(SearchToken).where(SearchToken.case_id == case_id)).all()


def test_an_erased_case_is_found_by_nothing(running_sqlite: Running) -> None:
    case_id = create_case(running_sqlite, persona="ib", title=f"Overleg {CANARY}")
    ib = login(running_sqlite, "ib")
    assert f"/cases/{case_id}" in search(ib, CANARY)
    ib.page(f"/cases/{case_id}")
    assert ib.submit(f"/cases/{case_id}/erase", {"confirm": "on"}).status_code == 200
    assert f"/cases/{case_id}" not in search(ib, CANARY)
    with running_sqlite.portal.sessions() as db:
        assert db.scalars(select(SearchToken).where(SearchToken.case_id == case_id)).all() == []


def test_cases_from_before_search_are_indexed_by_the_job(running_sqlite: Running) -> None:
    sessions, vault = running_sqlite.portal.sessions, running_sqlite.portal.vault
    with unit_of_work(sessions) as db:
        drop_case(db, CASE_ID)
    ib = login(running_sqlite, "ib")
    assert f"/cases/{CASE_ID}" not in search(ib, "Mulder")
    with unit_of_work(sessions) as db:
        assert index_unindexed(db, vault, running_sqlite.clock.now) == 1
    with unit_of_work(sessions) as db:
        assert index_unindexed(db, vault, running_sqlite.clock.now) == 0
    assert f"/cases/{CASE_ID}" in search(ib, "Mulder")
    with sessions() as db:
        assert db.scalars(select(AccessRecord.case_id).where(
            AccessRecord.event_type == "search.index")).all() == [CASE_ID]
