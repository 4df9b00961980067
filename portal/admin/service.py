"""Administration: organisations and people. No case content is reachable from here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auth.sessions import SessionStore
from portal.audit.service import Requester, record
from portal.cases.gate import is_uuid
from portal.cases.models import CaseParticipant
from portal.consent.facts import organisation_options
from portal.consent.models import OrganisationConsentRule
from portal.consent.rules import OrganisationRule
from portal.errors import N_, AccessDenied, InvalidInput
from portal.people.models import (
    Membership,
    Organisation,
    OrganisationKind,
    Person,
    PersonKind,
)
from portal.people.names import names_of
from portal.policy import Action, Actor, Deny, decide
from portal.staff.lifecycle import deactivate
from portal.vault.service import Vault
from portal.web.text import check_text

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


def overview(db: Session, vault: Vault, who: Requester, actor: Actor,
             now: datetime) -> tuple[list[Organisation], list[PersonRow]]:
    """Organisations and accounts; a citizen's sealed name is opened under the
    decision and access record of this read (the administrator manages accounts)."""
    _require_admin(db, who, actor, now, "admin.overview", "read")
    organisations = list(db.scalars(select(Organisation).order_by(Organisation.name)))
    names = {o.id: o.name for o in organisations}
    memberships: dict[str, list[tuple[str, str]]] = {}
    for m in db.scalars(select(Membership)):
        memberships.setdefault(m.person_id, []).append((names[m.organisation_id], m.role.value))
    persons = list(db.scalars(select(Person)))
    sealed = names_of(db, vault, [p.id for p in persons if p.kind is PersonKind.CITIZEN])
    people = [PersonRow(id=p.id, name=sealed.get(p.id) or p.display_name, kind=p.kind.value,
                        active=p.active, memberships=tuple(sorted(memberships.get(p.id, []))))
              for p in persons]
    return organisations, sorted(people, key=lambda row: (row.kind, row.name.casefold()))


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
    check_text(errors, {"name": name})
    if kind not in {k.value for k in OrganisationKind}:
        errors["kind"] = N_("Choose the kind of organisation.")
    if errors:
        raise InvalidInput(errors)
    db.add(Organisation(slug=slug, name=name, kind=OrganisationKind(kind), created_at=now))
    db.flush()


def person_to_disable(db: Session, vault: Vault, who: Requester, actor: Actor,
                      now: datetime, person_id: str) -> tuple[str, str, int]:
    """The account, its name and how many cases it takes part in: what the
    administrator confirms before disabling it."""
    _require_admin(db, who, actor, now, "admin.person.confirm_disable", "read")
    person = db.get(Person, person_id)
    if person is None:
        raise InvalidInput({"person": N_("No such person.")})
    if person.id == actor.person_id:
        raise InvalidInput({"person": N_("You cannot disable your own account.")})
    name = names_of(db, vault, [person.id]).get(person.id, person.display_name)
    cases = db.scalar(select(func.count()).select_from(CaseParticipant)
                      .where(CaseParticipant.person_id == person.id)) or 0
    return person.id, name, int(cases)


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
        # A disabled account is logged out everywhere at once, and leaves its
        # cases (a chairless case asks its care coordinator for a new chair).
        sessions.delete_for_user(person.id)
        deactivate(db, who, now, person, reason="administrator")
    db.flush()


# -- per-organisation consent rules ------------------------------------------------

@dataclass(frozen=True)
class ConsentRuleRow:
    organisation_id: str
    name: str
    rule: OrganisationRule
    warning_days: int


MAX_WARNING_DAYS = 365


def consent_rules(db: Session, who: Requester, actor: Actor,
                  now: datetime) -> list[ConsentRuleRow]:
    """Each organisation's consent options (the defaults where none were set)."""
    _require_admin(db, who, actor, now, "admin.consent_rule.view", "read")
    return [ConsentRuleRow(o.id, o.name, *_options(db, o.id))
            for o in db.scalars(select(Organisation).order_by(Organisation.name))]


def _options(db: Session, organisation_id: str) -> tuple[OrganisationRule, int]:
    options = organisation_options(db, organisation_id)
    return options.rule, options.warning_days


def set_consent_rule(db: Session, who: Requester, actor: Actor, now: datetime, *,
                     organisation_id: str, rule: str, warning_days: str) -> None:
    """Set "one adult with custody suffices" (school-only cases) and the birthday warning.

    Recorded as a write naming the organisation; the engine reads the row on the
    next request (``portal.consent.facts.organisation_options``).
    """
    organisation = db.get(Organisation, organisation_id) if is_uuid(organisation_id) else None
    decision = decide(actor, Action.ORGANISATION_MANAGE)
    record(db, who, now, event_type="admin.consent_rule.update", action="update",
           decision=decision, object_type="organisation",
           object_id=organisation.id if organisation else None)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    errors = {}
    if organisation is None:
        errors["organisation_id"] = N_("Choose an organisation.")
    if rule not in {r.value for r in OrganisationRule}:
        errors["rule"] = N_("Choose who must consent.")
    days = int(warning_days) if warning_days.strip().isdigit() else -1
    if not 0 <= days <= MAX_WARNING_DAYS:
        errors["warning_days"] = N_("Give a number of days from 0 to 365.")
    if errors or organisation is None:
        raise InvalidInput(errors)
    row = db.get(OrganisationConsentRule, organisation.id)
    if row is None:
        row = OrganisationConsentRule(organisation_id=organisation.id)
        db.add(row)
    row.rule = OrganisationRule(rule)
    row.warning_days = days
    db.flush()
