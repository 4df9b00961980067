"""The invitee's side: a verified family login that no person is bound to redeems a code.

After the OIDC callback finds no person for a citizen login, the verified
identity (provider, subject, acr) waits in the server-side session; redeeming
a valid code binds it to the invited person. Guessing is limited per session
and per source address in the database, so the limit holds across workers:
after ``FAILURE_LIMIT`` failures within ``WINDOW`` an attempt is refused
without the code being looked at. Every failure is an access record.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from auth.config import acr_at_least
from auth.sessions import SessionData
from portal.audit.service import Requester, record
from portal.invitations.codes import clean_code, code_hash
from portal.invitations.models import FamilyInvitation, InvitationFailure
from portal.invitations.service import INVITABLE
from portal.people.models import Child, ChildRelation, Person

# The unbound login's place in the session's pending logins (whose other keys
# are random OIDC states, so it cannot collide with one).
INVITEE = "invitee"
FAILURE_LIMIT = 20
WINDOW = timedelta(minutes=1)
# Failures older than this are of no use to the limit and are deleted.
FAILURE_KEEP = timedelta(hours=1)


class Refusal(enum.StrEnum):
    RATE_LIMITED = "rate_limited"
    ASSURANCE_TOO_LOW = "assurance_too_low"
    UNKNOWN_CODE = "unknown_code"
    ALREADY_USED = "already_used"
    EXPIRED = "expired"
    REVOKED = "revoked"
    PERSON_INACTIVE = "person_inactive"
    NO_LONGER_RELATED = "no_longer_related"
    LOGIN_ALREADY_BOUND = "login_already_bound"
    NOT_LOGGED_IN = "not_logged_in"


class RedemptionRefused(Exception):
    """The code was not redeemed; the failure is on record."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class UnboundLogin:
    """A verified citizen login that no portal person is bound to (yet)."""

    provider_id: str
    subject: str
    acr: str | None
    auth_time: int | None

    def remember(self, session: SessionData, now: datetime) -> SessionData:
        logins = {k: v for k, v in session.pending_logins.items() if k != INVITEE}
        # started_at: the pending-login pruning orders entries by it.
        logins[INVITEE] = {"provider_id": self.provider_id, "subject": self.subject,
                           "acr": self.acr, "auth_time": self.auth_time,
                           "started_at": int(now.timestamp())}
        return replace(session, pending_logins=logins)

    @classmethod
    def of(cls, session: SessionData) -> UnboundLogin | None:
        raw: Mapping[str, Any] | None = session.pending_logins.get(INVITEE)
        if not raw or not raw.get("provider_id") or not raw.get("subject"):
            return None
        auth_time = raw.get("auth_time")
        return cls(provider_id=str(raw["provider_id"]), subject=str(raw["subject"]),
                   acr=str(raw["acr"]) if raw.get("acr") else None,
                   auth_time=int(auth_time) if isinstance(auth_time, int) else None)


def forget(session: SessionData) -> SessionData:
    return replace(session, pending_logins={k: v for k, v in session.pending_logins.items()
                                            if k != INVITEE})


@dataclass(frozen=True)
class Redeemer:
    """Who redeems: an unbound login, or a family member already logged in."""

    login: UnboundLogin | None
    person_id: str | None
    acr: str | None


def _source(who: Requester) -> tuple[str, str]:
    return who.session_ref or "-", who.client_address or "-"


# pg_advisory_xact_lock's first key: this module's locks, apart from any other's.
_LOCK_CLASS = 0x1A17


def _lock_key(value: str) -> int:
    digest = hashlib.sha256(value.encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def _serialise(db: Session, session_ref: str, address: str) -> None:
    """On PostgreSQL, one attempt at a time per address and per session, until commit.

    Otherwise parallel guesses from several workers could all count 19
    failures and all be checked. Address before session, always, so two
    attempts never wait on each other in a cycle. (SQLite already runs one
    writing transaction at a time.)
    """
    if db.get_bind().dialect.name != "postgresql":
        return
    for value in (f"address:{address}", f"session:{session_ref}"):
        db.execute(text("SELECT pg_advisory_xact_lock(:cls, :key)"),
                   {"cls": _LOCK_CLASS, "key": _lock_key(value)})


def rate_limited(db: Session, who: Requester, now: datetime) -> bool:
    """Too many failures from this session or this address within the window."""
    session_ref, address = _source(who)
    _serialise(db, session_ref, address)
    since = now - WINDOW
    for column, value in ((InvitationFailure.session_ref, session_ref),
                          (InvitationFailure.client_address, address)):
        count = db.scalar(select(func.count()).select_from(InvitationFailure)
                          .where(column == value, InvitationFailure.failed_at > since))
        if (count or 0) >= FAILURE_LIMIT:
            return True
    return False


def _refuse(db: Session, who: Requester, now: datetime, reason: Refusal,
            invitation: FamilyInvitation | None = None) -> RedemptionRefused:
    session_ref, address = _source(who)
    db.execute(delete(InvitationFailure).where(InvitationFailure.failed_at < now - FAILURE_KEEP))
    db.add(InvitationFailure(session_ref=session_ref, client_address=address, failed_at=now))
    record(db, who, now, event_type="invitation.redeem", action="execute", outcome="failed",
           reason=reason.value, object_type="family_invitation",
           object_id=invitation.id if invitation else None,
           child_id=invitation.child_id if invitation else None)
    db.flush()
    return RedemptionRefused(reason)


def _find(db: Session, secret: str, raw_code: str) -> FamilyInvitation | None:
    code = clean_code(raw_code)
    if code is None:
        return None
    return db.scalars(select(FamilyInvitation)
                      .where(FamilyInvitation.code_hash == code_hash(secret, code))).first()


def mark_opened(db: Session, who: Requester, now: datetime, secret: str, raw_code: str) -> None:
    """The invitee reached the link after logging in: "opened" for the school.

    Nothing is shown either way, so this is no oracle; a rate-limited source
    does not even get the lookup."""
    if rate_limited(db, who, now):
        return
    invitation = _find(db, secret, raw_code)
    if invitation is not None and invitation.opened_at is None \
            and invitation.bound_at is None and invitation.revoked_at is None \
            and now < invitation.expires_at:
        invitation.opened_at = now
        db.flush()


def redeem(db: Session, who: Requester, now: datetime, secret: str, required_acr: str,
           redeemer: Redeemer, raw_code: str) -> Person:
    """Bind the redeemer's login to the invited person; raises RedemptionRefused."""
    if redeemer.login is None and redeemer.person_id is None:
        raise _refuse(db, who, now, Refusal.NOT_LOGGED_IN)
    if rate_limited(db, who, now):
        # Refused without looking at the code at all.
        raise _refuse(db, who, now, Refusal.RATE_LIMITED)
    if not acr_at_least(redeemer.acr, required_acr):
        raise _refuse(db, who, now, Refusal.ASSURANCE_TOO_LOW)
    invitation = _find(db, secret, raw_code)
    if invitation is None:
        raise _refuse(db, who, now, Refusal.UNKNOWN_CODE)
    person = db.get(Person, invitation.person_id)
    reason = _invalid(invitation, person, now) or _unrelated(db, invitation)
    if reason is not None:
        raise _refuse(db, who, now, reason, invitation)
    assert person is not None  # _invalid refuses a missing person
    login = redeemer.login
    if login is not None:
        taken = db.scalar(select(Person.id).where(Person.idp == login.provider_id,
                                                  Person.subject == login.subject))
        if taken is not None or person.idp is not None:
            raise _refuse(db, who, now, Refusal.LOGIN_ALREADY_BOUND, invitation)
    elif redeemer.person_id != person.id:
        # Logged in as somebody else: one login never takes over another person.
        raise _refuse(db, who, now, Refusal.LOGIN_ALREADY_BOUND, invitation)
    if not _claim(db, invitation, person, login, now):
        # Another request redeemed it (or bound the person) since we looked.
        raise _refuse(db, who, now, Refusal.ALREADY_USED, invitation)
    record(db, replace(who, user_id=person.id), now, event_type="invitation.redeem",
           action="execute", outcome="allowed", object_type="family_invitation",
           object_id=invitation.id, child_id=invitation.child_id)
    return person


class _Lost(Exception):
    """Somebody else claimed the invitation or the person first."""


def _claim(db: Session, invitation: FamilyInvitation, person: Person,
           login: UnboundLogin | None, now: datetime) -> bool:
    """Mark the invitation used and bind the login, each only if still unclaimed.

    Conditional updates rather than read-then-write: of two requests redeeming
    the same code at once, the second finds no row to update (PostgreSQL
    re-checks the condition after the first commits) and is refused. Both in
    one savepoint, so a lost race leaves neither half behind.
    """
    try:
        with db.begin_nested():
            claimed = db.execute(
                update(FamilyInvitation)
                .where(FamilyInvitation.id == invitation.id,
                       FamilyInvitation.bound_at.is_(None),
                       FamilyInvitation.revoked_at.is_(None))
                .values(bound_at=now,
                        opened_at=func.coalesce(FamilyInvitation.opened_at, now))
                .execution_options(synchronize_session=False))
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                raise _Lost
            query = update(Person).where(Person.id == person.id)
            values: dict[str, object] = {"last_login_at": now}
            if login is not None:
                query = query.where(Person.idp.is_(None))
                values.update(idp=login.provider_id, subject=login.subject)
            bound = db.execute(query.values(**values)
                               .execution_options(synchronize_session=False))
            if bound.rowcount != 1:  # type: ignore[attr-defined]
                raise _Lost
    except _Lost:
        return False
    db.refresh(invitation)
    db.refresh(person)
    return True


def _unrelated(db: Session, invitation: FamilyInvitation) -> Refusal | None:
    """The register no longer links the person to the child (a custody change)."""
    child = db.get(Child, invitation.child_id)
    if child is not None and child.person_id == invitation.person_id:
        return None
    related = db.scalar(select(ChildRelation.id).where(
        ChildRelation.child_id == invitation.child_id,
        ChildRelation.person_id == invitation.person_id,
        ChildRelation.relation.in_(sorted(INVITABLE))))
    return None if related is not None else Refusal.NO_LONGER_RELATED


def _invalid(invitation: FamilyInvitation, person: Person | None,
             now: datetime) -> Refusal | None:
    if invitation.bound_at is not None:
        return Refusal.ALREADY_USED
    if invitation.revoked_at is not None:
        return Refusal.REVOKED
    if now >= invitation.expires_at:
        return Refusal.EXPIRED
    if person is None or not person.active:
        return Refusal.PERSON_INACTIVE
    return None
