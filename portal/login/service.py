"""From a verified OIDC login to a portal person, with their roles.

The provider's configuration decides what a login may claim: a professional
provider vouches only for its listed organisations, and only mapped role
claims grant roles. Unknown organisations or roles give no access at all.

A login is matched to a person by its account key, the provider's issuer plus
``sub`` (``OidcAccount``). Every new binding is logged: a first login, an
account from before issuer keys (matched once by provider id and subject),
and a provider that changed its subject type (matched through the provider's
``previous_subject_claim``). A subject that matches nothing is a new person;
moving an existing person to it otherwise takes ``portal accounts rebind``.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.config import IdentityProviderConfig
from auth.login_values import LoginRejected, VerifiedLogin
from portal.db import new_id
from portal.login.claims import claim_list, claim_value
from portal.login.models import OidcAccount
from portal.ops.administrator import bind_pending_administrator
from portal.people.models import Organisation, Person, PersonKind, Role
from portal.staff.login import before_roles, sync_memberships

log = logging.getLogger("portal.login")


def find_account(db: Session, provider: IdentityProviderConfig,
                 login: VerifiedLogin) -> tuple[Person | None, str | None]:
    """The person this login belongs to, and how a binding must still be made
    (None: already bound by issuer and subject)."""
    person = db.scalars(select(Person).join(OidcAccount, OidcAccount.person_id == Person.id)
                        .where(OidcAccount.issuer == login.issuer,
                               OidcAccount.subject == login.subject)).first()
    if person is not None:
        return person, None
    legacy = db.scalars(select(Person).where(Person.idp == provider.id,
                                             Person.subject == login.subject)).first()
    if legacy is not None:
        return legacy, "legacy"
    if provider.previous_subject_claim:
        previous = login.claims.get(provider.previous_subject_claim)
        if isinstance(previous, str) and previous and previous != login.subject:
            earlier, _ = find_account(db, provider, with_subject(login, previous))
            if earlier is not None:
                return earlier, "previous_subject"
    return None, "login"


def with_subject(login: VerifiedLogin, subject: str) -> VerifiedLogin:
    return VerifiedLogin(provider_id=login.provider_id, issuer=login.issuer, subject=subject,
                         claims={}, acr=login.acr, auth_time=login.auth_time)


def bind_account(db: Session, person: Person, login: VerifiedLogin, how: str,
                 now: datetime) -> None:
    db.add(OidcAccount(person_id=person.id, issuer=login.issuer, subject=login.subject,
                       bound_at=now, bound_by=how))
    # Person ids only: a subject can be an identifying number (BSN behind a broker).
    if how in ("previous_subject", "rebind"):
        log.warning("account rebound: provider=%s person=%s moved to a new subject (%s)",
                    login.provider_id, person.id, how)
    else:
        log.info("account bound: provider=%s person=%s how=%s", login.provider_id,
                 person.id, how)


def is_person(db: Session, provider: IdentityProviderConfig, login: VerifiedLogin,
              person_id: str) -> bool:
    """True when this login (issuer, subject) is the portal person ``person_id``."""
    person, _ = find_account(db, provider, login)
    return person is not None and person.id == person_id


def is_unbound_citizen(db: Session, provider: IdentityProviderConfig,
                       login: VerifiedLogin) -> bool:
    """A family login no person is bound to: it may only redeem an invitation.

    Such a login no longer creates a person with no child (who saw "no role"):
    the school registers family members and invites them (portal/invitations).
    """
    citizen = provider.kind == "citizen" or (
        provider.kind == "mixed"
        and not claim_list(claim_value(login.claims, provider.org_claim)))
    return citizen and find_account(db, provider, login)[0] is None


def provision(db: Session, provider: IdentityProviderConfig, login: VerifiedLogin,
              now: datetime) -> Person:
    """The person for this login, created or updated; raises LoginRejected."""
    if (administrator := bind_pending_administrator(db, provider, login, now)) is not None:
        return administrator
    claims = login.claims
    org_slugs = claim_list(claim_value(claims, provider.org_claim))
    professional = provider.kind == "professional" or (provider.kind == "mixed" and org_slugs)
    found, binding = find_account(db, provider, login)
    # A directory-provisioned account is bound here; memberships this login no
    # longer supports end before its roles are checked.
    person = before_roles(db, provider, login, found, now)
    if person is not None and not person.active:
        raise LoginRejected("account_disabled", "Your account has been disabled.")
    roles: list[tuple[str, Role]] = []
    if professional:
        roles = _roles(db, provider, org_slugs,
                       claim_list(claim_value(claims, provider.role_claim)))
    name = str(claims.get("name") or claims.get("preferred_username") or login.subject)[:200]
    email = claims.get("email")
    if person is None:
        person = Person(id=new_id(), idp=provider.id, subject=login.subject, created_at=now,
                        kind=PersonKind.PROFESSIONAL if professional else PersonKind.CITIZEN,
                        display_name=name, active=True)
        db.add(person)
    person.display_name = name
    if isinstance(email, str) and email:
        # A provider that sends no address (DigiD) keeps the one the school registered.
        person.email = email[:320]
    person.last_login_at = now
    if binding is not None:
        person.subject = login.subject  # the legacy key follows the account key
        db.flush()
        bind_account(db, person, login, binding, now)
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
