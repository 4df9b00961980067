"""Revision 0021 removes the DPO and the administrator from cases they were added to."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from portal.db import make_engine
from portal.migrate import upgrade


def test_content_free_participants_are_removed(empty_url: str) -> None:
    engine = make_engine(empty_url)
    now = "2026-12-01 10:00:00"
    people = {"chair": ["care_coordinator"], "fg": ["dpo"], "beheer": ["admin"],
              "both": ["dpo", "mentor"], "mentor": ["mentor"]}
    ids = {name: str(uuid.uuid4()) for name in (*people, "org", "case")}
    # (person, recorded capacity) — "beheer" and "mentor" were added without one.
    taking_part = [("chair", "care_coordinator", "chair"), ("fg", "dpo", "observer"),
                   ("beheer", None, "observer"), ("both", "mentor", "participant"),
                   ("mentor", None, "participant")]
    try:
        upgrade(engine, "0020")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO organisation (id, slug, name, kind, created_at) "
                              "VALUES (:org, 'school', 'School', 'school', :now)"),
                         {**ids, "now": now})
            for person, roles in people.items():
                conn.execute(text(
                    "INSERT INTO person (id, kind, display_name, active, created_at) "
                    "VALUES (:id, 'professional', :id, true, :now)"),
                    {"id": ids[person], "now": now})
                for role in roles:
                    conn.execute(text(
                        "INSERT INTO membership (id, person_id, organisation_id, role) "
                        "VALUES (:id, :person, :org, :role)"),
                        {"id": str(uuid.uuid4()), "person": ids[person], "org": ids["org"],
                         "role": role})
            conn.execute(text(
                "INSERT INTO mdo_case (id, anonymous, organisation_id, title_ct, purpose_ct, "
                "legal_basis, status, created_at, created_by) VALUES (:case, true, :org, "
                ":blob, :blob, 'consent', 'open', :now, :chair)"),
                {**ids, "blob": b"x", "now": now})
            for person, capacity, case_role in taking_part:
                conn.execute(text(
                    "INSERT INTO case_participant (id, case_id, person_id, organisation_id, "
                    "capacity_role, case_role, added_at, added_by) VALUES (:id, :case, "
                    ":person, :org, :capacity, :case_role, :now, :chair)"),
                    {**ids, "id": str(uuid.uuid4()), "person": ids[person],
                     "capacity": capacity, "case_role": case_role, "now": now})
        upgrade(engine, "0021")
        with engine.connect() as conn:
            left = set(conn.execute(text("SELECT person_id FROM case_participant")).scalars())
        assert left == {ids["chair"], ids["both"], ids["mentor"]}
    finally:
        engine.dispose()
