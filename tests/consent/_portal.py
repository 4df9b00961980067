"""Building consent worlds in a running portal's database, for integration tests.

A "world" is one child with its adults (as citizens with child relations and,
where given, custody records), one case at Het Baken with chosen participants,
and consent rows — the same shapes the JSON scenarios of ``portal consent
check`` describe, so a test can put one scenario through both.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from portal.cases.creation import NewCase, create_case_rows
from portal.cases.models import CaseRole, LegalBasis
from portal.consent.access import LOCAL_TIME
from portal.consent.models import (
    CaseGround,
    ConsenterKind,
    ConsentMethod,
    ConsentRecord,
    CustodyRecord,
)
from portal.consent.rules import Basis, Relationship
from portal.demo import stable_id
from portal.people.models import Child, ChildRelation, Person, PersonKind, Relation
from portal.vault.service import child_field
from tests.harness import Running

RELATIONS = {("parent", True): Relation.PARENT_WITH_CUSTODY,
             ("parent", False): Relation.PARENT_WITHOUT_CUSTODY,
             ("guardian", None): Relation.GUARDIAN,
             ("foster_parent", None): Relation.FOSTER_PARENT,
             ("youth_protector_ots", None): Relation.YOUTH_PROTECTOR_OTS}


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=LOCAL_TIME).astimezone(UTC)


def org(slug: str) -> str:
    return stable_id("org", slug)


def person(subject: str) -> str:
    return stable_id("person", subject)


@dataclass
class World:
    case_id: str
    child_id: str
    adults: dict[str, str]  # scenario id -> person id


def build_world(running: Running, *, birthdate: date, adults: list[dict[str, Any]],
                consents: list[dict[str, Any]], participants: list[tuple[str, CaseRole]],
                basis: str = "consent", recipient_of: dict[str, str] | None = None,
                grounds: list[dict[str, Any]] | None = None) -> World:
    """Rows for a scenario; ``recipient_of`` maps scenario recipients to portal ones."""
    portal = running.portal
    vault = portal.vault
    now = running.clock()
    tag = uuid.uuid4().hex[:8]
    child_id = str(uuid.uuid4())
    case_id = str(uuid.uuid4())
    recipient_of = recipient_of or {}
    with portal.sessions() as db:
        key = vault.new_key(db, "child", child_id, now)
        db.add(Child(id=child_id, school_id=org("het-baken"),
                     name_ct=vault.seal(key, f"Kind {tag}", child_field(child_id, "name")),
                     birthdate_ct=vault.seal(key, birthdate.isoformat(),
                                             child_field(child_id, "birthdate")),
                     created_at=now))
        ids: dict[str, str] = {}
        for adult in adults:
            person_id = str(uuid.uuid4())
            ids[adult["id"]] = person_id
            db.add(Person(id=person_id, kind=PersonKind.CITIZEN, display_name=adult["id"],
                          idp="test", subject=f"{tag}-{adult['id']}", active=True,
                          created_at=now))
            db.flush()
            custody = adult.get("custody", True if "custody_facts" in adult else None)
            relation = RELATIONS[(adult["relation"],
                                  custody if adult["relation"] == "parent" else None)]
            row = ChildRelation(child_id=child_id, person_id=person_id, relation=relation)
            db.add(row)
            db.flush()
            facts = adult.get("custody_facts")
            if facts:
                db.add(CustodyRecord(
                    child_relation_id=row.id, relationship=Relationship(facts["relationship"]),
                    is_mother=facts.get("is_mother"),
                    custody_applied=facts.get("custody_applied", False),
                    court_custody=facts.get("court_custody"),
                    recorded_by=person("ib"), recorded_at=now))
        db.flush()
        create_case_rows(db, vault, now, case_id=case_id, created_by=person("ib"),
                         organisation_id=org("het-baken"),
                         new=NewCase(child_id=child_id, anonymous=False, title=f"Casus {tag}",
                                     purpose="Ondersteuning afstemmen",
                                     legal_basis=LegalBasis(basis)),
                         participants=[(person(s), r) for s, r in participants])
        for c in consents:
            child = c["by"] == "child"
            withdrawn = c.get("withdrawn_on")
            db.add(ConsentRecord(
                case_id=case_id, child_id=child_id,
                consenter_kind=ConsenterKind.CHILD if child else ConsenterKind.ADULT,
                consenter_person_id=None if child else ids[c["by"]],
                method=ConsentMethod.SIGNED_FORM, categories=list(c["categories"]),
                recipients=[recipient_of.get(r, r) for r in c["recipients"]],
                valid_from=date.fromisoformat(c["valid_from"]),
                valid_until=date.fromisoformat(c["valid_until"]) if c.get("valid_until")
                else None,
                given_at=now, recorded_by=person("ib"),
                withdrawn_at=noon(date.fromisoformat(withdrawn)) if withdrawn else None,
                withdrawn_by=person("ib") if withdrawn else None,
                withdrawal_method=ConsentMethod.SIGNED_FORM if withdrawn else None))
        for g in grounds or []:
            # As the grounds page stores one (the justification is not what is tested here).
            db.add(CaseGround(
                case_id=case_id, basis=Basis(g["basis"]), categories=list(g["categories"]),
                recipients=[recipient_of.get(r, r) for r in g["recipients"]],
                valid_from=date.fromisoformat(g["valid_from"]),
                valid_until=date.fromisoformat(g["valid_until"]) if g.get("valid_until")
                else None,
                justification_ct=None, invoked_by=person("ib"), invoked_at=now,
                ended_at=noon(date.fromisoformat(g["ended_on"])) if g.get("ended_on") else None,
                needs_review=False))
        db.commit()
    return World(case_id=case_id, child_id=child_id, adults=ids)


ACCESS_ITEM = re.compile(r'<li class="(granted|refused)">([^:<]+):')


def your_access(page_text: str) -> dict[str, bool]:
    """The "what you may read" list of a case page: Dutch category label -> allowed."""
    return {label.strip(): state == "granted"
            for state, label in ACCESS_ITEM.findall(page_text)}
