"""``portal keys rebind``: content stored before binding 2 gets its access facts bound."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update

from portal.cli import main
from portal.documents.models import CaseDocument, DocumentVersion
from portal.documents.rebind import _rebind
from portal.minutes.models import MinutesSection
from portal.minutes.sections import Opener, section_binding
from portal.vault.service import LOCATION_ONLY
from tests.documents.helpers import (
    CASE_PATH,
    legacy_minutes,
    logged_in,
    stream_download,
    upload_new,
)
from tests.harness import Running
from tests.minutes.helpers import MINUTES, save, section

CONTENT = b"regel van een oud verslag\n" * 8_000  # several segments


def _as_before_0018(running: Running) -> None:
    """Seal every version and section again the way the portal did before binding 2."""
    vault = running.portal.vault
    with running.portal.sessions() as db, db.begin():
        for version, document in db.execute(select(DocumentVersion, CaseDocument).join(
                CaseDocument, CaseDocument.id == DocumentVersion.document_id)).all():
            _rebind(db, vault, version, document, target=LOCATION_ONLY,
                    blobs=running.portal.blobs)
        for row in db.scalars(select(MinutesSection)).all():
            case_id = running.extra["case_id"]
            opener = Opener(db, vault, case_id)
            text, key = opener.text(row), opener.key(row.data_key_id)
            row.binding = LOCATION_ONLY
            for name, value in (("heading", text.heading), ("body", text.body)):
                setattr(row, f"{name}_ct", vault.seal(key, value, section_binding(
                    case_id, row.section_key, row.sealed_version, name, row)))


def _widen(running: Running) -> None:
    with running.portal.sessions() as db, db.begin():
        db.execute(update(CaseDocument).values(categories="behaviour"))
        db.execute(update(MinutesSection).values(categories="school_progress"))


def test_rebind_closes_the_gap_for_existing_content(
        running: Running, keys_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    ib = logged_in(running, "ib")
    file_id = upload_new(running, ib, CONTENT, "oud.txt", categories=("health",))
    minutes_id = legacy_minutes(running, "ib", "Oude notulen", "Oude tekst",
                                categories=("health",))
    writer = logged_in(running, "notulist")
    save(writer, section("Gezondheid", "Oude sectie", categories=("health",)))
    running.extra["case_id"] = CASE_PATH.split("/")[2]
    _as_before_0018(running)

    for name, value in {"PORTAL_DATABASE_URL": str(running.portal.engine.url.render_as_string(
            hide_password=False)), "PORTAL_DATA_DIR": str(keys_dir)}.items():
        monkeypatch.setenv(name, value)
    assert main(["keys", "rebind"]) == 0
    assert "2 document version(s) and 1 minutes section(s) re-sealed" in capsys.readouterr().out
    assert main(["keys", "rebind"]) == 0  # nothing left: idempotent
    assert "0 document version(s) and 0 minutes section(s)" in capsys.readouterr().out

    # Still readable as they are (the owner may read health in their own minutes)...
    with running.portal.sessions() as db:
        assert set(db.scalars(select(DocumentVersion.binding))) == {2}
    # ...and widening the categories now fails closed instead of opening them.
    _widen(running)
    assert ib.get(f"{CASE_PATH}/documents/{file_id}/download").status_code == 500
    assert ib.get(f"{CASE_PATH}/documents/{minutes_id}").status_code == 500
    assert "Oude sectie" not in logged_in(running, "ib").page(MINUTES).text


def test_rebound_file_downloads_whole(running: Running, keys_dir: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    ib = logged_in(running, "ib")
    file_id = upload_new(running, ib, CONTENT, "oud.txt", categories=("behaviour",))
    running.extra["case_id"] = CASE_PATH.split("/")[2]
    _as_before_0018(running)
    # Before the rebind a widened legacy item would open: that is the gap it closes.
    status, _, body, clean = stream_download(ib, f"{CASE_PATH}/documents/{file_id}/download")
    assert (status, clean, body == CONTENT) == (200, True, True)
    for name, value in {"PORTAL_DATABASE_URL": str(running.portal.engine.url.render_as_string(
            hide_password=False)), "PORTAL_DATA_DIR": str(keys_dir)}.items():
        monkeypatch.setenv(name, value)
    assert main(["keys", "rebind"]) == 0
    status, _, body, clean = stream_download(ib, f"{CASE_PATH}/documents/{file_id}/download")
    assert (status, clean, body == CONTENT) == (200, True, True)


def test_a_legacy_version_that_does_not_open_is_skipped_and_reported(
        running: Running, keys_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    ib = logged_in(running, "ib")
    edited = upload_new(running, ib, CONTENT, "bewerkt.txt", categories=("behaviour",))
    fine = upload_new(running, ib, CONTENT, "goed.txt", categories=("behaviour",))
    running.extra["case_id"] = CASE_PATH.split("/")[2]
    _as_before_0018(running)
    with running.portal.sessions() as db, db.begin():  # damaged before the rebind ran
        version = db.scalars(select(DocumentVersion)
                             .where(DocumentVersion.document_id == edited)).one()
        assert version.filename_ct is not None
        version.filename_ct = version.filename_ct[:-1] + bytes([version.filename_ct[-1] ^ 1])
    for name, value in {"PORTAL_DATABASE_URL": str(running.portal.engine.url.render_as_string(
            hide_password=False)), "PORTAL_DATA_DIR": str(keys_dir)}.items():
        monkeypatch.setenv(name, value)
    assert main(["keys", "rebind"]) == 1
    out, err = capsys.readouterr()
    assert "1 document version(s)" in out and edited in err and fine not in err
    with running.portal.sessions() as db:
        bindings = dict(db.execute(select(DocumentVersion.document_id,
                                          DocumentVersion.binding)).all())
    assert (bindings[edited], bindings[fine]) == (1, 2)


def test_a_legacy_section_that_does_not_open_is_skipped(
        running: Running, keys_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    writer = logged_in(running, "notulist")
    save(writer, section("Een", "Eerste sectie"), section("Twee", "Tweede sectie"))
    running.extra["case_id"] = CASE_PATH.split("/")[2]
    _as_before_0018(running)
    with running.portal.sessions() as db, db.begin():
        broken = db.scalars(select(MinutesSection).order_by(MinutesSection.position)).first()
        assert broken is not None
        broken.body_ct = broken.body_ct[:-1] + bytes([broken.body_ct[-1] ^ 1])
        broken_key = broken.section_key
    for name, value in {"PORTAL_DATABASE_URL": str(running.portal.engine.url.render_as_string(
            hide_password=False)), "PORTAL_DATA_DIR": str(keys_dir)}.items():
        monkeypatch.setenv(name, value)
    assert main(["keys", "rebind"]) == 1
    out, err = capsys.readouterr()
    assert "1 minutes section(s) re-sealed" in out and broken_key in err
    with running.portal.sessions() as db:
        bindings = sorted(db.scalars(select(MinutesSection.binding)))
    assert bindings == [1, 2]
