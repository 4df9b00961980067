"""Personas, CSV files and service calls for the register's tests."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit.service import Requester
from portal.db import unit_of_work
from portal.demo import stable_id
from portal.people.models import Child, ChildRelation, Enrolment, Person
from portal.policy import Actor
from portal.register import service
from portal.register.importer import Plan
from tests.harness import Running

BAKEN = stable_id("org", "het-baken")
LICHTPUNT = stable_id("org", "het-lichtpunt")
JEUGDHULP = stable_id("org", "jeugdhulp-noord")
HEADER = ("leerlingnummer", "naam", "geboortedatum", "groep",
          "verzorger1_naam", "verzorger1_email", "verzorger1_relatie", "verzorger1_gezag",
          "verzorger2_naam", "verzorger2_email", "verzorger2_relatie", "verzorger2_gezag")


def pupil(number: str, name: str, born: str = "03-05-2015", group: str = "5a",
          *adults: tuple[str, str, str, str]) -> dict[str, str]:
    row = {"leerlingnummer": number, "naam": name, "geboortedatum": born, "groep": group}
    for index, (adult_name, email, relation, custody) in enumerate(adults, start=1):
        row |= {f"verzorger{index}_naam": adult_name, f"verzorger{index}_email": email,
                f"verzorger{index}_relatie": relation, f"verzorger{index}_gezag": custody}
    return row


MOTHER = ("Anna Jansen", "anna.jansen@example.nl", "ouder", "ja")
FATHER = ("Bram Jansen", "bram@example.nl", "ouder", "nee")
CLASS = [pupil("501", "Eva Jansen", "03-05-2015", "5a", MOTHER, FATHER),
         pupil("502", "Finn Jansen", "2017-01-20", "3b", MOTHER),  # a sibling
         pupil("503", "Gijs de Wit", "11-11-2014", "6a",
               ("Hanna de Wit", "hanna@example.nl", "voogd", ""))]


def csv_bytes(rows: Sequence[dict[str, str]], delimiter: str = ";", bom: bool = False,
              header: Sequence[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(header), delimiter=delimiter,
                            lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode("utf-8")


def actor(running: Running, persona: str) -> Actor:
    with running.portal.sessions() as db:
        found = running.portal.load_actor(db, stable_id("person", persona))
    assert found is not None
    return found


def requester(who: Actor) -> Requester:
    return Requester(user_id=who.person_id, user_name=who.name, user_role=None,
                     organisation_id=None, session_ref="test", client_address="127.0.0.1")


@contextmanager
def transaction(running: Running) -> Iterator[Session]:
    with unit_of_work(running.portal.sessions) as db:
        yield db


def run_import(running: Running, persona: str, organisation: str, data: bytes,
               commit: bool = True, **changes: Any) -> Plan:
    who = actor(running, persona)
    call = service.import_commit if commit else service.import_preview
    with transaction(running) as db:
        return call(db, running.portal.vault, requester(who), who, running.clock(),
                    organisation, data)


def snapshot(running: Running) -> dict[str, Any]:
    """What the register holds (counts and ciphertexts), to see whether anything changed."""
    with running.portal.sessions() as db:
        return {
            "children": sorted((c.id, c.name_ct, c.birthdate_ct, c.school_id)
                               for c in db.scalars(select(Child))),
            "enrolments": sorted((e.id, e.pupil_number_ct, e.group_ct, e.active)
                                 for e in db.scalars(select(Enrolment))),
            "people": sorted((p.id, p.name_ct or b"", p.email or "")
                             for p in db.scalars(select(Person))),
            "relations": sorted((r.child_id, r.person_id, r.relation.value)
                                for r in db.scalars(select(ChildRelation))),
        }


def count(running: Running, model: type[Any]) -> int:
    with running.portal.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def today(running: Running) -> date:
    return running.clock().date()
