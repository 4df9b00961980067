"""Granting and lifting the portal-wide supervision: ``portal dpo supervise|unsupervise``.

Only an FG of the operator's organisation (kind ``portal``) can hold the grant.
Granting and lifting are written to the access log; a lifted grant stays as the
trail, with who lifted it and when.
"""

from __future__ import annotations

import argparse
import getpass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.db import make_engine, session_factory, unit_of_work
from portal.dpo.models import SupervisionGrant
from portal.people.models import Membership, Organisation, OrganisationKind, Person, Role


class SupervisionRefused(Exception):
    """Why the grant was not made or lifted; the message says what to check."""


def _operator(by: str) -> Requester:
    return Requester(user_id=None, user_name=f"operator ({by})"[:200], user_role="system",
                     organisation_id=None, session_ref=None, client_address=None)


def _operator_fg(db: Session, email: str) -> Person:
    person = db.scalar(select(Person).where(func.lower(Person.email) == email.strip().lower(),
                                            Person.active.is_(True)))
    if person is None:
        raise SupervisionRefused(f"no active person has the address {email!r}")
    is_operator_fg = db.scalar(select(Membership.id).join(
        Organisation, Organisation.id == Membership.organisation_id).where(
        Membership.person_id == person.id, Membership.role == Role.DPO,
        Organisation.kind == OrganisationKind.PORTAL).limit(1))
    if is_operator_fg is None:
        raise SupervisionRefused(
            f"{email} is not an FG of the portal operator's organisation; only they can "
            "supervise the whole portal")
    return person


def grant(db: Session, email: str, now: datetime, by: str) -> str:
    """Give the operator's FG the portal-wide supervision; returns the grant id."""
    person = _operator_fg(db, email)
    held = db.scalar(select(SupervisionGrant.id).where(
        SupervisionGrant.person_id == person.id, SupervisionGrant.revoked_at.is_(None)))
    if held is not None:
        return held
    row = SupervisionGrant(person_id=person.id, granted_at=now, granted_by=by[:200])
    db.add(row)
    db.flush()
    record(db, _operator(by), now, event_type="dpo.supervision.grant", action="update",
           outcome="allowed", object_type="person", object_id=person.id,
           purpose_of_use="administration")
    return row.id


def revoke(db: Session, email: str, now: datetime, by: str) -> int:
    """Lift every grant the person holds; returns how many were lifted."""
    person = db.scalar(select(Person).where(func.lower(Person.email) == email.strip().lower()))
    if person is None:
        raise SupervisionRefused(f"no person has the address {email!r}")
    held = db.scalars(select(SupervisionGrant).where(
        SupervisionGrant.person_id == person.id, SupervisionGrant.revoked_at.is_(None))).all()
    for row in held:
        row.revoked_at, row.revoked_by = now, by[:200]
    db.flush()
    if held:
        record(db, _operator(by), now, event_type="dpo.supervision.revoke", action="update",
               outcome="allowed", object_type="person", object_id=person.id,
               purpose_of_use="administration")
    return len(held)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dpo = sub.add_parser("dpo", help="the FGs (data protection officers)").add_subparsers(
        dest="dpo", required=True)
    on = dpo.add_parser("supervise", help="let the operator's FG oversee the whole portal")
    on.add_argument("email")
    on.set_defaults(func=cmd_supervise)
    off = dpo.add_parser("unsupervise", help="lift the portal-wide supervision")
    off.add_argument("email")
    off.set_defaults(func=cmd_unsupervise)


def _run(args: argparse.Namespace, revoking: bool) -> int:
    from portal.settings_env import load_settings

    engine = make_engine(load_settings().effective_database_url)
    by = f"portal dpo {'unsupervise' if revoking else 'supervise'} by {getpass.getuser()}"
    try:
        with unit_of_work(session_factory(engine)) as db:
            if revoking:
                count = revoke(db, args.email, datetime.now(UTC), by)
                print(f"lifted {count} supervision grant(s) of {args.email}")
            else:
                grant_id = grant(db, args.email, datetime.now(UTC), by)
                print(f"{args.email} supervises the portal (grant {grant_id})")
    except SupervisionRefused as refused:
        print(f"portal: {refused}")
        return 2
    finally:
        engine.dispose()
    return 0


def cmd_supervise(args: argparse.Namespace) -> int:
    return _run(args, revoking=False)


def cmd_unsupervise(args: argparse.Namespace) -> int:
    return _run(args, revoking=True)
