"""No access record, no data: a failing audit insert yields 503 and nothing of the case."""

from __future__ import annotations

from sqlalchemy import text

from portal.demo import DEMO_CASE, stable_id
from tests.harness import Running

CASE_PATH = f"/cases/{stable_id('case', DEMO_CASE.key)}"


def break_access_records(running: Running) -> None:
    """A real database refusal, not a mock: a trigger that rejects every insert."""
    engine = running.portal.engine
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text(
                "CREATE TRIGGER refuse_access_record BEFORE INSERT ON access_record "
                "BEGIN SELECT RAISE(ABORT, 'audit store unavailable'); END"))
        else:
            conn.execute(text(
                "CREATE FUNCTION refuse_access_record() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'audit store unavailable'; END $$"))
            conn.execute(text(
                "CREATE TRIGGER refuse_access_record BEFORE INSERT ON access_record "
                "FOR EACH ROW EXECUTE FUNCTION refuse_access_record()"))


def test_case_page_fails_closed(running: Running) -> None:
    client = running.client()
    client.login("ib")
    assert "zorgen over gedrag" in client.page(CASE_PATH).text
    break_access_records(running)
    response = client.get(CASE_PATH)
    assert response.status_code == 503
    for secret in ("zorgen over gedrag", "Sam Mulder", "Afstemmen welke ondersteuning",
                   "Mirjam de Vries"):
        assert secret not in response.text
    assert "tijdelijk niet beschikbaar" in response.text


def test_case_list_fails_closed(running: Running) -> None:
    client = running.client()
    client.login("mentor")
    break_access_records(running)
    response = client.get("/cases")
    assert response.status_code == 503
    assert "zorgen over gedrag" not in response.text


def test_htmx_fragment_fails_closed(running: Running) -> None:
    client = running.client()
    client.login("ib")
    client.page(CASE_PATH)
    break_access_records(running)
    response = client.submit(f"{CASE_PATH}/participants",
                             {"person_id": stable_id("person", "jeugdhulp"),
                              "case_role": "participant"}, htmx=True)
    assert response.status_code == 503
    assert "Mila Smit" not in response.text
