"""Plaintext never rests: section texts, drafts and corrections written through the web are
nowhere in the database (file and WAL, or a pg_dump) or the server's logs."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.documents.test_canary import needles, pg_dump, server_log
from tests.harness import Running
from tests.minutes.helpers import (
    MINUTES,
    form,
    keys_by_heading,
    logged_in,
    save,
    section,
    submit_and_approve,
)


def test_minutes_canary_is_nowhere_at_rest(running: Running, database_url: str,
                                           caplog: pytest.LogCaptureFixture,
                                           capfd: pytest.CaptureFixture[str],
                                           request: pytest.FixtureRequest) -> None:
    caplog.set_level(logging.DEBUG)
    canary = f"KANARIE-{uuid.uuid4().hex}"
    control = f"CONTROLE-{uuid.uuid4().hex}"
    writer = logged_in(running, "notulist")
    writer.page(f"{MINUTES}/edit")
    writer.submit(f"{MINUTES}/draft", form(section(f"Kop {canary}", f"Concept {canary}")),
                  htmx=True)
    assert canary in writer.page(f"{MINUTES}/edit").text
    saved = save(writer, section(f"Kop {canary}", f"Tekst {canary}"))
    assert canary in saved.text
    writer.page(f"{MINUTES}/edit")
    writer.submit(f"{MINUTES}/draft", form(section(f"Nieuw {canary}", f"Weer {canary}")),
                  htmx=True)  # a draft left behind
    submit_and_approve(running, writer, 1)
    key = keys_by_heading(running, 1, ["only"])["only"]
    mentor = logged_in(running, "mentor")
    mentor.page(MINUTES)
    proposed = mentor.submit(f"{MINUTES}/corrections", {
        "section": key, "text": f"Beter {canary}", "reason": f"Omdat {canary}"})
    assert proposed.status_code == 200 and f"Omdat {canary}" in proposed.text

    with running.portal.engine.begin() as conn:
        conn.execute(text("CREATE TABLE canary_control (note varchar(100))"))
        conn.execute(text("INSERT INTO canary_control VALUES (:c)"), {"c": control})
    logging.getLogger("portal.canary_control").warning("control %s", control)
    secrets, controls = needles(canary), needles(control)
    if running.portal.engine.dialect.name == "sqlite":
        db_file = Path(database_url.removeprefix("sqlite:///"))
        stores = [db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm")]
        store_bytes = b"".join(p.read_bytes() for p in stores if p.exists())
    else:
        store_bytes = pg_dump(request.getfixturevalue("postgres"), database_url)
        assert b"COPY public.minutes_section" in store_bytes
    assert any(c in store_bytes for c in controls)
    assert not any(s in store_bytes for s in secrets)
    log = server_log(caplog) + "".join(capfd.readouterr())
    assert control in log
    assert canary not in log and canary.encode().hex() not in log
