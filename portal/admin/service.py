"""Administration: organisations and people. No case content is reachable from here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.sessions import SessionStore
from portal.audit.service import Requester, record
from portal.errors import N_, AccessDenied, InvalidInput
from portal.people.models import Membership, Organisation, OrganisationKind, Person
from portal.policy import Action, Actor, Deny, decide

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")


@dataclass(frozen=True)
class PersonRow:
    id: str
    name: str
    kind: str
    active: bool
    memberships: tuple[tuple[str, str], ...]  # (organisation name, role)


def _require_admin(db: Session, who: Requester, actor: Actor, now: datetime,
                   event_type: str, action: str) -> None:
    decision = decide(actor, Action.ORGANISATION_MANAGE)
    record(db, who, now, event_type=event_type, action=action, decision=decision)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)


def overview(db: Session, who: Requester, actor: Actor,
             now: datetime) -> tuple[list[Organisation], list[PersonRow]]:
    _require_admin(db, who, actor, now, "admin.overview", "read")
    organisations = list(db.scalars(select(Organisation).order_by(Organisation.name)))
    names = {o.id: o.name for o in organisations}
    memberships: dict[str, list[tuple[str, str]]] = {}
    for m in db.scalars(select(Membership)):
        memberships.setdefault(m.person_id, []).append((names[m.organisation_id], m.role.value))
    people = [PersonRow(id=p.id, name=p.display_name, kind=p.kind.value, active=p.active,
                        memberships=tuple(sorted(memberships.get(p.id, []))))
              for p in db.scalars(select(Person).order_by(Person.display_name))]
    return organisations, people


def add_organisation(db: Session, who: Requester, actor: Actor, now: datetime, *, slug: str,
                     name: str, kind: str) -> None:
    _require_admin(db, who, actor, now, "admin.organisation.create", "create")
    errors = {}
    slug, name = slug.strip().lower(), name.strip()
    if not SLUG.match(slug):
        errors["slug"] = N_("Use 3 to 64 lowercase letters, digits and hyphens.")
    elif db.scalars(select(Organisation).where(Organisation.slug == slug)).first():
        errors["slug"] = N_("This short name is taken.")
    if not name or len(name) > 200:
        errors["name"] = N_("Give the organisation's name.")
    if kind not in {k.value for k in OrganisationKind}:
        errors["kind"] = N_("Choose the kind of organisation.")
    if errors:
        raise InvalidInput(errors)
    db.add(Organisation(slug=slug, name=name, kind=OrganisationKind(kind), created_at=now))
    db.flush()


def set_person_active(db: Session, sessions: SessionStore, who: Requester, actor: Actor,
                      now: datetime, person_id: str, active: bool) -> None:
    _require_admin(db, who, actor, now, "admin.person.update", "update")
    person = db.get(Person, person_id)
    if person is None:
        raise InvalidInput({"person": N_("No such person.")})
    if person.id == actor.person_id:
        raise InvalidInput({"person": N_("You cannot disable your own account.")})
    person.active = active
    if not active:
        # A disabled account is logged out everywhere at once.
        sessions.delete_for_user(person.id)
    db.flush()
