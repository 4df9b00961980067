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
from auth.oidc import VerifiedLogin
from portal.people.models import Membership, Organisation, Person, PersonKind, Role
from portal.scim.models import ScimUser
from portal.staff.lifecycle import end_memberships, system_requester


def sync_memberships(db: Session, provider: IdentityProviderConfig, login: VerifiedLogin,
                     person: Person, roles: Sequence[tuple[str, Role]], now: datetime) -> None:
    """Make the person's memberships what this login says, ending the ones it dropped.

    Ended: a membership in an organisation the provider vouches for that the
    login no longer names (moved from school A to school B), and one in an
    organisation the login still names but the provider no longer vouches for.
    """
    claimed = {org for org, _ in roles}
    directory = _directory_organisations(db, person.id)
    vouched = set(db.scalars(select(Organisation.id)
                             .where(Organisation.slug.in_(provider.organisations))))
    named = set(db.scalars(select(Organisation.id)
                           .where(Organisation.slug.in_(_slugs(login, provider)))))
    current = set(db.scalars(select(Membership.organisation_id)
                             .where(Membership.person_id == person.id)))
    dropped = (((vouched - claimed) | (named - vouched)) & current) - directory
    if dropped:
        end_memberships(db, system_requester(f"login:{provider.id}", None), now, person.id,
                        dropped, reason="not_in_login_claims")
    refreshed = claimed - directory
    db.execute(delete(Membership).where(Membership.person_id == person.id,
                                        Membership.organisation_id.in_(refreshed)))
    for org_id, role in roles:
        if org_id in refreshed:
            db.add(Membership(person_id=person.id, organisation_id=org_id, role=role))
    db.flush()


def _slugs(login: VerifiedLogin, provider: IdentityProviderConfig) -> list[str]:
    value = login.claims.get(provider.org_claim)
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


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
