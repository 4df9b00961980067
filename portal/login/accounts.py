"""``portal accounts rebind``: move a person to the subject their provider now sends.

When a provider changes its subject type (public to pairwise, a new tenant,
a migrated directory) and cannot send the old subject in a
``previous_subject_claim``, the next login would be a stranger. The
administrator binds the new subject to the existing person instead: the old
binding stays as the trail, the move is logged and written to the access log.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.config import IdentityProviderConfig
from auth.login_values import VerifiedLogin
from portal.audit.service import Requester, record
from portal.db import make_engine, session_factory, unit_of_work
from portal.login.models import OidcAccount
from portal.login.service import bind_account, find_account, with_subject
from portal.settings_env import load_settings

OPERATOR = Requester(user_id=None, user_name="operator (portal accounts rebind)",
                     user_role=None, organisation_id=None, session_ref=None,
                     client_address=None)


class RebindRefused(Exception):
    """Why the move was not made; the message names what to check."""


def rebind(db: Session, provider: IdentityProviderConfig, old_subject: str,
           new_subject: str, now: datetime) -> str:
    """Bind ``new_subject`` to the person holding ``old_subject``; their id."""
    login = VerifiedLogin(provider_id=provider.id, issuer=provider.issuer,
                          subject=old_subject, claims={}, acr=None, auth_time=None)
    person, _ = find_account(db, provider, login)
    if person is None:
        raise RebindRefused(f"no person has subject {old_subject!r} at provider {provider.id}")
    holder = db.scalar(select(OidcAccount.person_id).where(
        OidcAccount.issuer == provider.issuer, OidcAccount.subject == new_subject))
    if holder is not None:
        raise RebindRefused(
            f"subject {new_subject!r} is already bound to person {holder}"
            + (" (nothing to do)" if holder == person.id else
               "; disable or remove that person first if it was created by mistake"))
    if person.idp == provider.id:
        person.subject = new_subject  # the legacy key follows the account key
        db.flush()
    bind_account(db, person, with_subject(login, new_subject), "rebind", now)
    record(db, OPERATOR, now, event_type="auth.account_rebound", action="update",
           outcome="allowed", object_type="person", object_id=person.id)
    db.flush()
    return person.id


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    accounts = sub.add_parser("accounts", help="logins bound to people").add_subparsers(
        dest="accounts", required=True)
    move = accounts.add_parser(
        "rebind", help="bind the subject a provider now sends to the person who had the old one")
    move.add_argument("--provider", required=True, help="the provider's id in PORTAL_IDPS_FILE")
    move.add_argument("--from", dest="old_subject", required=True, help="the old subject")
    move.add_argument("--to", dest="new_subject", required=True, help="the new subject")
    move.set_defaults(func=cmd_rebind)


def cmd_rebind(args: argparse.Namespace) -> int:
    settings = load_settings()
    provider = next((p for p in settings.identity_providers if p.id == args.provider), None)
    if provider is None:
        print(f"portal: no identity provider {args.provider!r} in PORTAL_IDPS_FILE")
        return 2
    engine = make_engine(settings.effective_database_url)
    try:
        with unit_of_work(session_factory(engine)) as db:
            person_id = rebind(db, provider, args.old_subject, args.new_subject,
                               datetime.now(UTC))
    except RebindRefused as refused:
        print(f"portal: not rebound: {refused}")
        return 1
    finally:
        engine.dispose()
    print(f"person {person_id} now logs in with the new subject at {provider.id}")
    return 0
