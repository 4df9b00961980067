"""From a verified OIDC login to a portal person, with their roles.

The provider's configuration decides what a login may claim: a professional
provider vouches only for its listed organisations, and only mapped role
claims grant roles. Unknown organisations or roles give no access at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.config import IdentityProviderConfig
from auth.oidc import LoginRejected, VerifiedLogin
from portal.db import new_id
from portal.people.models import Organisation, Person, PersonKind, Role
from portal.staff.login import before_roles, sync_memberships


def _claim_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def is_person(db: Session, provider: IdentityProviderConfig, login: VerifiedLogin,
              person_id: str) -> bool:
    """True when this login (provider, subject) is the portal person ``person_id``."""
    return db.scalar(select(Person.id).where(Person.idp == provider.id,
                                             Person.subject == login.subject)) == person_id


def provision(db: Session, provider: IdentityProviderConfig, login: VerifiedLogin,
              now: datetime) -> Person:
    """The person for this login, created or updated; raises LoginRejected."""
    claims = login.claims
    org_slugs = _claim_list(claims.get(provider.org_claim))
    professional = provider.kind == "professional" or (provider.kind == "mixed" and org_slugs)
    person = db.scalars(select(Person).where(Person.idp == provider.id,
                                             Person.subject == login.subject)).first()
    person = before_roles(db, provider, login, person, now)
    if person is not None and not person.active:
        raise LoginRejected("account_disabled", "Your account has been disabled.")
    roles: list[tuple[str, Role]] = []
    if professional:
        roles = _roles(db, provider, org_slugs, _claim_list(claims.get(provider.role_claim)))
    name = str(claims.get("name") or claims.get("preferred_username") or login.subject)[:200]
    email = claims.get("email")
    if person is None:
        person = Person(id=new_id(), idp=provider.id, subject=login.subject, created_at=now,
                        kind=PersonKind.PROFESSIONAL if professional else PersonKind.CITIZEN,
                        display_name=name, active=True)
        db.add(person)
    person.display_name = name
    person.email = str(email)[:320] if isinstance(email, str) else None
    person.last_login_at = now
    db.flush()
    if professional:
        # The IdP is the source of truth for roles in the organisations it vouches for.
        sync_memberships(db, person, roles)
    return person


def _roles(db: Session, provider: IdentityProviderConfig, org_slugs: list[str],
           role_claims: list[str]) -> list[tuple[str, Role]]:
    allowed = [slug for slug in org_slugs if slug in provider.organisations]
    if not allowed:
        raise LoginRejected("organisation_not_vouched",
                            "Your organisation is not connected to the portal through "
                            "this login.")
    organisations = db.scalars(select(Organisation).where(Organisation.slug.in_(allowed))).all()
    roles = {Role(provider.role_map[c]) for c in role_claims
             if c in provider.role_map and provider.role_map[c] in Role._value2member_map_}
    if not organisations or not roles:
        raise LoginRejected("no_role", "Your account has no role in the portal.")
    return [(org.id, role) for org in organisations for role in sorted(roles)]
