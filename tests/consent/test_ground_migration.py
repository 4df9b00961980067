"""Revision 0022 scopes the grounds of older cases, keeping only what the leaflet allows."""

from __future__ import annotations

import json
import uuid

from alembic import command
from sqlalchemy import text

from portal.db import make_engine
from portal.migrate import alembic_config, upgrade

CASES = ("consent", "ots", "tlv_or_extra_support", "vital_interest", "meldrecht_veilig_thuis")


def test_older_grounds_get_a_scope_and_wait_for_review(empty_url: str) -> None:
    engine = make_engine(empty_url)
    now = "2026-12-01 10:00:00"
    ids = {name: str(uuid.uuid4()) for name in ("school", "swv", "ib", "swv_person", *CASES)}
    try:
        upgrade(engine, "0021")
        with engine.begin() as conn:
            for org, kind in (("school", "school"), ("swv", "samenwerkingsverband")):
                conn.execute(text("INSERT INTO organisation (id, slug, name, kind, created_at) "
                                  "VALUES (:id, :slug, :slug, :kind, :now)"),
                             {"id": ids[org], "slug": org, "kind": kind, "now": now})
            for who in ("ib", "swv_person"):
                conn.execute(text(
                    "INSERT INTO person (id, kind, display_name, active, created_at) "
                    "VALUES (:id, 'professional', :id, true, :now)"), {"id": ids[who], "now": now})
            for basis in CASES:
                conn.execute(text(
                    "INSERT INTO mdo_case (id, anonymous, organisation_id, title_ct, purpose_ct, "
                    "legal_basis, status, created_at, created_by) VALUES (:case, false, :org, "
                    ":blob, :blob, :basis, 'open', :now, :ib)"),
                    {"case": ids[basis], "org": ids["school"], "blob": b"x", "basis": basis,
                     "now": now, "ib": ids["ib"]})
            conn.execute(text(
                "INSERT INTO case_participant (id, case_id, person_id, organisation_id, "
                "case_role, added_at, added_by) VALUES (:id, :case, :person, :org, "
                "'participant', :now, :ib)"),
                {"id": str(uuid.uuid4()), "case": ids["tlv_or_extra_support"],
                 "person": ids["swv_person"], "org": ids["swv"], "now": now, "ib": ids["ib"]})
        upgrade(engine, "0022")
        with engine.connect() as conn:
            bases = dict(conn.execute(text("SELECT id, legal_basis FROM mdo_case")).all())
            rows = conn.execute(text(
                "SELECT case_id, basis, recipients, categories, needs_review, valid_from, "
                "justification_ct, invoked_by FROM case_ground")).all()
            events = conn.execute(text("SELECT kind FROM case_ground_event")).scalars().all()
            tasks = dict(conn.execute(text("SELECT case_id, duty FROM ground_task")).all())
        command.downgrade(alembic_config(engine), "0021")
        with engine.connect() as conn:
            restored = dict(conn.execute(text("SELECT id, legal_basis FROM mdo_case")).all())
    finally:
        engine.dispose()
    assert set(bases.values()) == {"consent"}
    scopes = {r.case_id: (r.basis, _json(r.recipients)) for r in rows}
    assert scopes == {
        ids["ots"]: ("ots", ["role:youth_protector"]),
        ids["tlv_or_extra_support"]: ("tlv_or_extra_support", [f"org:{ids['swv']}"]),
        ids["vital_interest"]: ("vital_interest", [f"person:{ids['ib']}"]),
        ids["meldrecht_veilig_thuis"]: ("meldrecht_veilig_thuis", [f"person:{ids['ib']}"]),
    }
    assert all(r.needs_review and r.justification_ct is None and r.invoked_by == ids["ib"]
               and str(r.valid_from) == "2026-12-01" and len(_json(r.categories)) == 6
               for r in rows)
    assert events == ["migrated"] * 4
    # The school's duty to inform; vital interest has the DPO's review instead.
    assert tasks == {ids[b]: "inform" for b in ("ots", "tlv_or_extra_support",
                                                 "meldrecht_veilig_thuis")}
    assert restored == {ids[b]: b for b in CASES}


def _json(value: object) -> list[str]:
    return json.loads(value) if isinstance(value, str) else list(value)  # type: ignore[arg-type]
