"""The first administrator: bound at their first login, as ``portal init`` named them.

``portal init`` stores a pending binding (provider id + subject or e-mail
claim). The first login through that provider that matches it becomes the
administrator of the operator organisation. Their role comes from ``portal
init``, not from the provider's claims, so later logins of the bound account
keep it; deactivating the account ends it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from auth.config import IdentityProviderConfig
from auth.login_values import LoginRejected, VerifiedLogin
from portal.audit.service import Requester, record
from portal.db import new_id
from portal.ops.models import AdministratorBinding
from portal.people.models import Membership, Person, PersonKind, Role

log = logging.getLogger("portal.ops")

NO_ADMINISTRATOR_LOG = "no administrator yet: run `portal init`"


def administrator_exists(db: Session) -> bool:
    """True when some active account holds the administrator role."""
    return bool(db.scalar(select(exists().where(
        Membership.role == Role.ADMIN, Membership.person_id == Person.id,
        Person.active.is_(True)))))


def administrator_state(db: Session) -> str:
    """``present``, ``pending`` (named by ``portal init``, not logged in yet) or ``none``."""
    if administrator_exists(db):
        return "present"
    return "pending" if administrator_pending(db) else "none"


def administrator_pending(db: Session) -> bool:
    """True when ``portal init`` named an administrator who has not logged in yet."""
    return bool(db.scalar(select(exists().where(AdministratorBinding.person_id.is_(None)))))


def no_administrator_rejection(db: Session, rejected: LoginRejected) -> LoginRejected:
    """Say why nobody has a role yet, instead of "no role", while there is no administrator."""
    if rejected.code != "no_role" or administrator_exists(db):
        return rejected
    if administrator_pending(db):
        return LoginRejected("administrator_pending",
                             "The portal's administrator has not logged in yet.")
    log.warning(NO_ADMINISTRATOR_LOG)
    return LoginRejected("no_administrator", "No administrator yet: run `portal init`.")


def _matches(binding: AdministratorBinding, login: VerifiedLogin) -> bool:
    if binding.subject is not None:
        return binding.subject == login.subject
    email = login.claims.get("email")
    # A provider that says the address is unverified does not vouch for it.
    return (isinstance(email, str) and binding.email == email.strip().lower()
            and login.claims.get("email_verified") is not False)


def bind_pending_administrator(db: Session, provider: IdentityProviderConfig,
                               login: VerifiedLogin, now: datetime) -> Person | None:
    """The administrator's account when this login is the one ``portal init`` named.

    None for every other login (one indexed query), which the caller then
    provisions as usual. A deactivated administrator also gets None, so the
    caller's own refusal applies.
    """
    bindings = db.scalars(select(AdministratorBinding)
                          .where(AdministratorBinding.idp == provider.id)).all()
    for binding in bindings:
        if binding.person_id is not None:
            person = db.get(Person, binding.person_id)
            if (person is not None and person.active and person.idp == provider.id
                    and person.subject == login.subject):
                person.last_login_at = now
                return person
        elif _matches(binding, login):
            return _bind(db, binding, provider, login, now)
    return None


def _bind(db: Session, binding: AdministratorBinding, provider: IdentityProviderConfig,
          login: VerifiedLogin, now: datetime) -> Person | None:
    person = db.scalars(select(Person).where(Person.idp == provider.id,
                                             Person.subject == login.subject)).first()
    if person is not None and not person.active:
        return None
    name = str(login.claims.get("name") or login.claims.get("preferred_username")
               or login.subject)[:200]
    if person is None:
        person = Person(id=new_id(), idp=provider.id, subject=login.subject, created_at=now,
                        kind=PersonKind.PROFESSIONAL, display_name=name, active=True)
        db.add(person)
    person.kind = PersonKind.PROFESSIONAL
    person.display_name = name
    email = login.claims.get("email")
    person.email = email[:320] if isinstance(email, str) else None
    person.last_login_at = now
    db.flush()
    if db.scalar(select(Membership.id).where(
            Membership.person_id == person.id, Membership.role == Role.ADMIN,
            Membership.organisation_id == binding.organisation_id)) is None:
        db.add(Membership(person_id=person.id, organisation_id=binding.organisation_id,
                          role=Role.ADMIN))
    binding.person_id = person.id
    binding.bound_at = now
    db.flush()
    record(db, Requester(user_id=person.id, user_name=name, user_role=Role.ADMIN.value,
                         organisation_id=binding.organisation_id, session_ref=None,
                         client_address=None),
           now, event_type="admin.init.administrator_bound", action="update",
           outcome="allowed", object_type="person", object_id=person.id)
    log.info("administrator bound at first login: provider=%s person=%s", provider.id,
             person.id)
    return person
