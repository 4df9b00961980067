"""Plaintext never rests: section texts, drafts and corrections written through the web are
nowhere in the database (file and WAL, or a pg_dump) or the server's logs."""

from __future__ import annotations

import logging
import uuid

import pytest

from tests.documents.test_canary import needles, plant_control, server_log, stored_bytes
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

    plant_control(running, control)
    secrets, controls = needles(canary), needles(control)
    store_bytes = stored_bytes(running, database_url, request, "minutes_section")
    assert any(c in store_bytes for c in controls)
    assert not any(s in store_bytes for s in secrets)
    log = server_log(caplog) + "".join(capfd.readouterr())
    assert control in log
    assert canary not in log and canary.encode().hex() not in log
