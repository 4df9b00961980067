"""Shared steps for the minutes tests: write, submit and approve through the real routes."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from portal.demo import DEMO_CASE, stable_id
from portal.minutes.models import Minutes, MinutesSection, MinutesVersion
from tests.harness import PortalClient, Running

CASE_ID = stable_id("case", DEMO_CASE.key)
MEETING_ID = stable_id("meeting", DEMO_CASE.key)
MINUTES = f"/meetings/{MEETING_ID}/minutes"


def section(heading: str, body: str, *, categories: tuple[str, ...] = ("school_progress",),
            kind: str = "discussion", nature: str = "fact", shared: bool = False,
            key: str = "") -> dict[str, str]:
    fields = {"key": key, "heading": heading, "body": body, "kind": kind, "nature": nature}
    fields.update({f"category_{c}": "on" for c in categories})
    if shared:
        fields["shared"] = "on"
    return fields


def form(*sections: dict[str, str]) -> dict[str, str]:
    data = {"slots": str(len(sections))}
    for i, fields in enumerate(sections):
        data.update({f"s{i}_{name}": value for name, value in fields.items()})
    return data


def logged_in(running: Running, persona: str) -> PortalClient:
    client = running.client()
    client.login(persona)
    return client


def save(client: PortalClient, *sections: dict[str, str],
         meeting_path: str = MINUTES) -> httpx.Response:
    client.page(f"{meeting_path}/edit")
    return client.submit(meeting_path, form(*sections))


def submit_and_approve(running: Running, writer: PortalClient, version: int,
                       meeting_path: str = MINUTES) -> None:
    assert writer.submit(f"{meeting_path}/submit").status_code == 200
    chair = logged_in(running, "ib")
    chair.page(meeting_path)
    response = chair.submit(f"{meeting_path}/approve", {"version": str(version)})
    assert response.status_code == 200, response.text


def versions(running: Running, meeting_id: str = MEETING_ID) -> list[MinutesVersion]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(MinutesVersion).join(
            Minutes, Minutes.id == MinutesVersion.minutes_id).where(
            Minutes.meeting_id == meeting_id).order_by(MinutesVersion.version)))


def sections_of(running: Running, version_id: str) -> list[MinutesSection]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(MinutesSection).where(
            MinutesSection.version_id == version_id).order_by(MinutesSection.position)))


def keys_by_heading(running: Running, version: int, headings: list[str]) -> dict[str, Any]:
    """Section keys of a version, in order, named by the headings the test wrote."""
    chosen = next(v for v in versions(running) if v.version == version)
    return dict(zip(headings, (s.section_key for s in sections_of(running, chosen.id)),
                    strict=True))


def written_earlier_by(running: Running, persona: str) -> None:
    """Mark every version so far as saved by ``persona`` (an earlier minute-taker), so the
    current writer is no longer the sole author of their sections."""
    with running.portal.sessions() as db:
        for version in db.scalars(select(MinutesVersion)):
            version.created_by = stable_id("person", persona)
        db.commit()
