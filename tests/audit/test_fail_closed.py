"""No record, no data: the log failing in the middle of a request answers 503 and shows nothing."""

from __future__ import annotations

from sqlalchemy import text

from portal.demo import DEMO_CASE, stable_id
from tests.harness import Running

CASE_PATH = f"/cases/{stable_id('case', DEMO_CASE.key)}"
SECRETS = ("zorgen over gedrag", "Sam Mulder", "Afstemmen welke ondersteuning")


def shows_nothing(response_text: str) -> bool:
    return not any(secret in response_text for secret in SECRETS)


def test_the_database_going_away_while_the_record_is_written(running: Running) -> None:
    client = running.client()
    client.login("ib")
    assert "zorgen over gedrag" in client.page(CASE_PATH).text
    engine = running.portal.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # The server ends this very connection as the access record arrives.
            conn.execute(text(
                "CREATE FUNCTION vanish() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$"))
            conn.execute(text("CREATE TRIGGER vanish BEFORE INSERT ON access_record "
                              "FOR EACH ROW EXECUTE FUNCTION vanish()"))
        else:
            conn.execute(text("CREATE TRIGGER vanish BEFORE INSERT ON access_record BEGIN "
                              "SELECT RAISE(FAIL, 'disk I/O error'); END"))
    response = client.get(CASE_PATH)
    assert response.status_code == 503
    assert shows_nothing(response.text)
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER vanish" + (" ON access_record"
                                                   if engine.dialect.name == "postgresql"
                                                   else "")))
    assert client.get(CASE_PATH).status_code == 200, "the next request works again"


def test_a_missing_chain_head_fails_closed(running: Running) -> None:
    client = running.client()
    client.login("ib")
    engine = running.portal.engine
    with engine.begin() as conn:  # what only the tables' owner could do
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_chain_head DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_chain_head_no_delete"))
        conn.execute(text("DELETE FROM audit_chain_head"))
    response = client.get(CASE_PATH)
    assert response.status_code == 503
    assert shows_nothing(response.text)
