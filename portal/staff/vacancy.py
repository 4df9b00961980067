"""What the case page says about a case whose chair left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.cases.models import Case
from portal.people.models import Person
from portal.staff.lifecycle import care_coordinators
from portal.staff.models import ChairVacancy


@dataclass(frozen=True)
class ChairVacancyView:
    """A case whose chair left: since when, who left, who can appoint a new one."""

    since: datetime
    left: str
    appointers: tuple[str, ...]


def chair_vacancy(db: Session, case: Case) -> ChairVacancyView | None:
    vacancy = db.get(ChairVacancy, case.id)
    if vacancy is None:
        return None
    left = db.scalar(select(Person.display_name).where(Person.id == vacancy.left_person_id))
    return ChairVacancyView(since=vacancy.since, left=left or "?", appointers=tuple(
        name for _, name in care_coordinators(db, case.organisation_id)))
