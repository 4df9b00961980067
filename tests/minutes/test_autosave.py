"""Autosave: the editor's draft is stored encrypted, survives a closed tab and a restart."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import select

from conftest import StartPortal
from portal.localtime import local_time
from portal.minutes.models import MinutesDraft
from tests.harness import Running
from tests.minutes.helpers import MINUTES, form, section, versions


def test_a_draft_survives_a_closed_tab_and_a_restart(sqlite_url: str,
                                                     start_portal: StartPortal) -> None:
    marker = f"CONCEPT-{uuid.uuid4().hex}"
    first: Running = start_portal(sqlite_url)
    tab = first.client()
    tab.login("notulist")
    editor = tab.page(f"{MINUTES}/edit")
    assert 'hx-post="/meetings/' in editor.text and 'hx-trigger="input delay:2s"' in editor.text
    saved = tab.submit(f"{MINUTES}/draft",
                       form(section("Half af", f"Nog niet klaar {marker}")), htmx=True)
    assert saved.status_code == 200
    # A small status fragment, not a page.
    assert saved.text.strip() == f"Concept opgeslagen om {local_time(first.clock.now, '%H:%M')}"
    # Replaced, not added, on the next autosave.
    tab.submit(f"{MINUTES}/draft", form(section("Half af", f"Bijna klaar {marker}")),
               htmx=True)
    with first.portal.sessions() as db:
        (draft,) = db.scalars(select(MinutesDraft)).all()
        assert marker.encode() not in draft.content_ct
    db_file = Path(sqlite_url.removeprefix("sqlite:///"))
    first.stop()  # the tab is closed, the server goes down
    # The fixture stops every portal it started again at the end, which is not idempotent.
    first.stop = lambda: None  # type: ignore[method-assign]
    stored = b"".join(p.read_bytes() for p in
                      (db_file, Path(f"{db_file}-wal")) if p.exists())
    assert marker.encode() not in stored

    second: Running = start_portal(sqlite_url)
    again = second.client()
    again.login("notulist")
    restored = again.page(f"{MINUTES}/edit")
    assert f"Bijna klaar {marker}" in restored.text
    assert "Concept opgeslagen om" in restored.text
    assert versions(second) == []  # a draft is not a version
    # Saving makes the version and discards the draft (and its key).
    done = again.submit(MINUTES, form(section("Af", f"Klaar {marker}")))
    assert done.status_code == 200 and f"Klaar {marker}" in done.text
    with second.portal.sessions() as db:
        assert db.scalars(select(MinutesDraft)).all() == []
    assert f"Bijna klaar {marker}" not in again.page(f"{MINUTES}/edit").text
