"""Revision 0014 gives existing participants the capacity they can only have had."""

from __future__ import annotations

import uuid

from alembic import command
from sqlalchemy import inspect, text

from portal.db import make_engine
from portal.migrate import alembic_config, upgrade


def test_existing_participants_get_their_only_role(empty_url: str) -> None:
    engine = make_engine(empty_url)
    now = "2026-12-01 10:00:00"
    ids = {name: str(uuid.uuid4()) for name in ("org", "one", "two", "case")}
    try:
        upgrade(engine, "0013")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO organisation (id, slug, name, kind, created_at) "
                              "VALUES (:org, 'school', 'School', 'school', :now)"),
                         {**ids, "now": now})
            for person in ("one", "two"):
                conn.execute(text(
                    "INSERT INTO person (id, kind, display_name, active, created_at) "
                    "VALUES (:id, 'professional', :id, true, :now)"),
                    {"id": ids[person], "now": now})
            roles = [("one", "mentor"), ("two", "mentor"), ("two", "care_coordinator")]
            for person, role in roles:
                conn.execute(text(
                    "INSERT INTO membership (id, person_id, organisation_id, role) "
                    "VALUES (:id, :person, :org, :role)"),
                    {"id": str(uuid.uuid4()), "person": ids[person], "org": ids["org"],
                     "role": role})
            conn.execute(text(
                "INSERT INTO mdo_case (id, anonymous, organisation_id, title_ct, purpose_ct, "
                "legal_basis, status, created_at, created_by) VALUES (:case, true, :org, "
                ":blob, :blob, 'consent', 'open', :now, :one)"),
                {**ids, "blob": b"x", "now": now})
            for person in ("one", "two"):
                conn.execute(text(
                    "INSERT INTO case_participant (id, case_id, person_id, organisation_id, "
                    "case_role, added_at, added_by) VALUES (:id, :case, :person, :org, "
                    "'participant', :now, :one)"),
                    {**ids, "id": str(uuid.uuid4()), "person": ids[person], "now": now})
        upgrade(engine, "0014")
        with engine.connect() as conn:
            capacities = dict(conn.execute(text(
                "SELECT person_id, capacity_role FROM case_participant")).all())
        # And back: the downgrade leaves revision 0013's tables as they were.
        command.downgrade(alembic_config(engine), "0013")
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            columns = {c["name"] for c in inspect(conn).get_columns("case_participant")}
    finally:
        engine.dispose()
    assert capacities == {ids["one"]: "mentor", ids["two"]: None}
    assert not tables & {"scim_user", "scim_group", "scim_group_member", "scim_token",
                         "case_chair_vacancy"}
    assert "capacity_role" not in columns and "case_role" in columns
