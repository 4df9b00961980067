"""What a professional's login changes about their memberships (and who they are).

The provider is the source of truth for roles in the organisations it vouches
for: a membership in any of those that the login no longer names ends, with
the whole lifecycle of ``portal.staff.lifecycle`` (logged out elsewhere, off
that organisation's cases). Memberships an organisation's directory manages
over SCIM are left to the directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from auth.config import IdentityProviderConfig
from auth.login_values import VerifiedLogin
from portal.login.claims import claim_list, claim_value
from portal.people.models import Membership, Organisation, Person, PersonKind, Role
from portal.scim.models import ScimUser
from portal.staff.lifecycle import end_memberships, system_requester


def before_roles(db: Session, provider: IdentityProviderConfig, login: VerifiedLogin,
                 person: Person | None, now: datetime) -> Person | None:
    """The login's person (bound now if the directory provisioned them), with the
    memberships this login no longer supports already ended.

    Runs before the login's roles are checked, so the memberships end even when
    the login is then refused (no organisation vouched for, no role): the
    request still commits, and so do these changes and their access records.
    Ended: a membership in an organisation the provider vouches for that the
    login does not name (moved from school A to school B), in one the login
    names but the provider no longer vouches for, and every membership in the
    provider's organisations when the login carries no role the portal maps.
    """
    person = person or bind_provisioned(db, provider, login)
    professional = provider.kind == "professional" or (
        provider.kind == "mixed" and bool(_slugs(login, provider)))
    if person is None or not professional:
        return person
    vouched = _organisation_ids(db, provider.organisations)
    named = _organisation_ids(db, _slugs(login, provider))
    supported = named & vouched if _maps_a_role(login, provider) else set()
    current = set(db.scalars(select(Membership.organisation_id)
                             .where(Membership.person_id == person.id)))
    dropped = ((current & (vouched | named)) - supported) - _directory_organisations(
        db, person.id)
    if dropped:
        end_memberships(db, system_requester(f"login:{provider.id}", None), now, person.id,
                        dropped, reason="not_in_login_claims")
    return person


def sync_memberships(db: Session, person: Person, roles: Sequence[tuple[str, Role]]) -> None:
    """Make the roles in the organisations this login names what it says (the
    directory's organisations excepted: their groups decide)."""
    refreshed = {org for org, _ in roles} - _directory_organisations(db, person.id)
    db.execute(delete(Membership).where(Membership.person_id == person.id,
                                        Membership.organisation_id.in_(refreshed)))
    for org_id, role in roles:
        if org_id in refreshed:
            db.add(Membership(person_id=person.id, organisation_id=org_id, role=role))
    db.flush()


def _organisation_ids(db: Session, slugs: Sequence[str]) -> set[str]:
    return set(db.scalars(select(Organisation.id).where(Organisation.slug.in_(slugs))))


def _maps_a_role(login: VerifiedLogin, provider: IdentityProviderConfig) -> bool:
    claims = claim_list(claim_value(login.claims, provider.role_claim))
    return any(provider.role_map.get(c) in Role._value2member_map_ for c in claims)


def _slugs(login: VerifiedLogin, provider: IdentityProviderConfig) -> list[str]:
    return claim_list(claim_value(login.claims, provider.org_claim))


def _directory_organisations(db: Session, person_id: str) -> set[str]:
    return set(db.scalars(select(ScimUser.organisation_id)
                          .where(ScimUser.person_id == person_id)))


def bind_provisioned(db: Session, provider: IdentityProviderConfig,
                     login: VerifiedLogin) -> Person | None:
    """The directory-provisioned person this first login is, bound to it from now on.

    A SCIM user is matched when the provider vouches for the user's
    organisation and either the user's ``externalId`` is the login's subject,
    or the user's ``userName`` is the login's e-mail address (not marked
    unverified). Only an unbound account is taken: a bound one belongs to its
    own login.
    """
    if provider.kind == "citizen" or not _slugs(login, provider):
        return None  # a citizen's login never takes over a professional's account
    vouched = select(Organisation.id).where(Organisation.slug.in_(provider.organisations))
    candidates = (select(Person).join(ScimUser, ScimUser.person_id == Person.id)
                  .where(Person.subject.is_(None), Person.kind == PersonKind.PROFESSIONAL,
                         ScimUser.organisation_id.in_(vouched)))
    person = db.scalars(candidates.where(ScimUser.external_id == login.subject)).first()
    email = login.claims.get("email")
    if person is None and isinstance(email, str) and email \
            and login.claims.get("email_verified") is not False:
        person = db.scalars(candidates.where(
            ScimUser.user_name_key == func.lower(email.strip()))).first()
    if person is None:
        return None
    person.idp, person.subject = provider.id, login.subject
    db.flush()
    return person
