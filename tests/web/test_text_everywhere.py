"""The free-text rule in the forms that did not apply it yet (issue 12, finding 7).

Break-glass reasons, a legal ground's justification and the reasons for
changing or ending it, the note that closes a ground's duty, and an adult's
e-mail address in the register: each refuses a bidi override and a NUL with
the message at its own field, and stores nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from portal.consent.models import BreakGlassGrant, CaseGround, GroundEvent, GroundTask
from portal.demo import stable_id
from portal.people.models import ChildRelation
from tests.consent._portal import person
from tests.consent.test_grounds_portal import SAM_CASE, invoke
from tests.consent.test_portal import FORM, form_body, logged_in
from tests.harness import PortalClient, Running

MESSAGE = "Dit veld bevat verborgen stuur- of schrijfrichtingstekens"
CHARS = {"bidi-override": "\u202e", "nul": "\x00"}
ME = f"person:{person('ib')}"
SAM_CASE_PATH = f"/cases/{SAM_CASE}"
REGISTER_SAM = f"/register/{stable_id('org', 'het-baken')}/children/{stable_id('child', 'sam')}"


def hidden(char: str) -> str:
    return f"Zorgen over de veiligheid thuis{char}, gemeld door de mentor."


def only_ground(running: Running) -> CaseGround:
    with running.portal.sessions() as db:
        return db.scalars(select(CaseGround)).one()


def break_glass(running: Running, ib: PortalClient, char: str) -> tuple[httpx.Response, str]:
    ib.page(f"{SAM_CASE_PATH}/consent")
    return ib.submit(f"{SAM_CASE_PATH}/break-glass", {"reason": hidden(char)}), "reason"


def ground_justification(running: Running, ib: PortalClient,
                         char: str) -> tuple[httpx.Response, str]:
    return invoke(ib, "meldrecht_veilig_thuis", [ME], ["health"],
                  justification=hidden(char)), "justification"


def ground_change(running: Running, ib: PortalClient, char: str) -> tuple[httpx.Response, str]:
    assert invoke(ib, "meldrecht_veilig_thuis", [ME], ["health"]).status_code == 200
    ground = only_ground(running)
    ib.page(f"{SAM_CASE_PATH}/grounds")
    pairs = [("csrf_token", ib.csrf), ("basis", "meldrecht_veilig_thuis"), ("recipients", ME),
             ("categories", "health"), ("categories", "family_situation"),
             ("justification", hidden(char))]
    return ib.post(f"{SAM_CASE_PATH}/grounds/{ground.id}/change", content=form_body(pairs),
                   headers=FORM), f"change-{ground.id}"


def ground_end(running: Running, ib: PortalClient, char: str) -> tuple[httpx.Response, str]:
    assert invoke(ib, "meldrecht_veilig_thuis", [ME], ["health"]).status_code == 200
    ground = only_ground(running)
    ib.page(f"{SAM_CASE_PATH}/grounds")
    return ib.submit(f"{SAM_CASE_PATH}/grounds/{ground.id}/end",
                     {"reason": hidden(char)}), f"end-{ground.id}"


def ground_task_note(running: Running, ib: PortalClient,
                     char: str) -> tuple[httpx.Response, str]:
    assert invoke(ib, "tlv_or_extra_support", [ME], ["school_progress"]).status_code == 200
    with running.portal.sessions() as db:
        task = db.scalars(select(GroundTask)).one()
    ib.page(f"{SAM_CASE_PATH}/grounds")
    return ib.submit(f"{SAM_CASE_PATH}/grounds/tasks/{task.id}/done",
                     {"note": f"Ouders gebeld{char}."}), f"task-{task.id}"


def register_adult_email(running: Running, ib: PortalClient,
                         char: str) -> tuple[httpx.Response, str]:
    ib.page(REGISTER_SAM)
    return ib.submit(f"{REGISTER_SAM}/adults", {
        "verzorger1_naam": "Tom Bos", "verzorger1_email": f"tom{char}@example.nl",
        "verzorger1_relatie": "ouder", "verzorger1_gezag": "ja"}), "verzorger1_email"


@dataclass(frozen=True)
class Field:
    send: Callable[[Running, PortalClient, str], tuple[httpx.Response, str]]
    # The rows the refused form would have added (none before, and none after).
    stored: Callable[[Running], int]


def _count(running: Running, statement: object) -> int:
    with running.portal.sessions() as db:
        return len(db.scalars(statement).all())  # type: ignore[call-overload]


FIELDS: dict[str, Field] = {
    "break-glass-reason": Field(break_glass,
                                lambda r: _count(r, select(BreakGlassGrant.id))),
    "ground-justification": Field(ground_justification,
                                  lambda r: _count(r, select(CaseGround.id))),
    "ground-change-reason": Field(ground_change, lambda r: _count(
        r, select(GroundEvent.id).where(GroundEvent.kind == "changed"))),
    "ground-end-reason": Field(ground_end, lambda r: _count(
        r, select(CaseGround.id).where(CaseGround.ended_at.is_not(None)))),
    "ground-task-note": Field(ground_task_note, lambda r: _count(
        r, select(GroundTask.id).where(GroundTask.done_at.is_not(None)))),
    "register-adult-email": Field(register_adult_email,
                                  lambda r: _count(r, select(ChildRelation.id))),
}


@pytest.mark.parametrize("char", list(CHARS.values()), ids=list(CHARS))
@pytest.mark.parametrize("name", list(FIELDS))
def test_the_field_refuses_hidden_characters_and_stores_nothing(
        running_sqlite: Running, name: str, char: str) -> None:
    field = FIELDS[name]
    ib = logged_in(running_sqlite, "ib")
    before = field.stored(running_sqlite)
    response, error_id = field.send(running_sqlite, ib, char)
    assert response.status_code == 400, (name, response.status_code)
    # The message is at the field itself, and the field points to it.
    assert re.search(rf'id="{re.escape(error_id)}-error">{MESSAGE}', response.text), name
    assert f'aria-describedby="{error_id}-error"' in response.text, name
    assert field.stored(running_sqlite) == before, name
