"""``portal dpo supervise`` / ``unsupervise``: the grant is explicit, kept and logged."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.cli import main
from portal.db import make_engine, session_factory
from portal.demo import stable_id
from portal.dpo.models import SupervisionGrant

FG = "fg@demo.mdo-portaal.test"


def test_supervise_and_unsupervise(sqlite_url: str, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PORTAL_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path))
    assert main(["dpo", "supervise", "ib@demo.mdo-portaal.test"]) == 2
    assert "not an FG of the portal operator's organisation" in capsys.readouterr().out
    assert main(["dpo", "unsupervise", FG]) == 0  # the demo data's grant
    assert "lifted 1 supervision grant(s)" in capsys.readouterr().out
    assert main(["dpo", "supervise", FG]) == 0
    assert "supervises the portal" in capsys.readouterr().out
    assert main(["dpo", "supervise", FG]) == 0  # already held: nothing new
    engine = make_engine(sqlite_url)
    with session_factory(engine)() as db:
        grants = db.scalars(select(SupervisionGrant).order_by(SupervisionGrant.granted_at)).all()
        trail = db.scalars(select(AccessRecord.event_type).where(
            AccessRecord.event_type.like("dpo.supervision.%")).order_by(AccessRecord.seq)).all()
    engine.dispose()
    assert [g.person_id for g in grants] == [stable_id("person", "fg")] * 2
    assert sum(g.revoked_at is None for g in grants) == 1
    assert "unsupervise" in (grants[0].revoked_by or "")
    # The demo data's grant is demo data (no record); its lifting and the new grant are.
    assert trail == ["dpo.supervision.revoke", "dpo.supervision.grant"]
