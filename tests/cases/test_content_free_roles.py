"""The DPO and the administrator promise "no case content": they never take part in a case."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.cases.models import CaseParticipant
from portal.people.models import Person
from tests.cases.test_flow import create_case
from tests.harness import Running

REFUSAL = "cannot take part in a case"


def _person_id(running: Running, name: str) -> str:
    with running.portal.sessions() as db:
        return db.scalars(select(Person.id).where(Person.display_name == name)).one()


def _participant_names(running: Running, case_id: str) -> set[str]:
    with running.portal.sessions() as db:
        return set(db.scalars(select(Person.display_name).join(
            CaseParticipant, CaseParticipant.person_id == Person.id)
            .where(CaseParticipant.case_id == case_id)))


@pytest.mark.parametrize("name", ["Fenna Gerritsen", "Anton Kramer"])
def test_dpo_and_admin_cannot_be_added_as_participants(running: Running, name: str) -> None:
    case_id = create_case(running)
    chair = running.client()
    chair.login("ib")
    chair.submit("/language", {"language": "en", "next": "/cases"})
    page = chair.page(f"/cases/{case_id}")
    assert name not in page.text, "the participant form does not offer the role"
    person_id = _person_id(running, name)
    for value in (person_id, f"{person_id}|x|dpo"):
        refused = chair.submit(f"/cases/{case_id}/participants",
                               {"person_id": value, "case_role": "observer"}, htmx=True)
        assert REFUSAL in refused.text, refused.text
    assert name not in _participant_names(running, case_id)


def test_refusal_is_in_dutch(running: Running) -> None:
    case_id = create_case(running)
    chair = running.client()
    chair.login("ib")
    chair.page(f"/cases/{case_id}")
    refused = chair.submit(f"/cases/{case_id}/participants",
                           {"person_id": _person_id(running, "Fenna Gerritsen"),
                            "case_role": "observer"}, htmx=True)
    assert re.search(r"functionaris gegevensbescherming", refused.text, re.IGNORECASE), \
        refused.text
