"""The school's side: invite a child's family member, resend, revoke, unbind, see status.

Every step asks the policy (``INVITATION_MANAGE`` on the child: the care
coordinator of the child's school) and writes an access record before the
child's name or birthdate is decrypted. Pages show the relation and the e-mail
address of each adult, never a citizen's display name.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from auth.sessions import SessionStore
from portal.audit.service import Requester, record
from portal.cases.gate import is_uuid
from portal.consent.access import local_date
from portal.consent.model import age_on
from portal.errors import N_, AccessDenied, InvalidInput
from portal.invitations.codes import InvitationKeys, code_hash, link, new_code
from portal.invitations.models import FamilyInvitation
from portal.localtime import local_time
from portal.mail.models import OutboxMessage
from portal.mail.service import MAX_ATTEMPTS, enqueue
from portal.people.models import Child, ChildRelation, Person, PersonKind, Relation
from portal.policy import Action, Actor, ChildFacts, Deny, decide
from portal.vault.service import Vault, child_field

# Who may be invited around a child: the youth protector is a professional
# with their own organisation's login.
INVITABLE = frozenset({Relation.PARENT_WITH_CUSTODY, Relation.PARENT_WITHOUT_CUSTODY,
                       Relation.GUARDIAN, Relation.FOSTER_PARENT})
PUPIL = "pupil"  # the pupil's own row, from the 16th birthday
PUPIL_AGE = 16
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
MAIL_KIND = "family.invitation"
MAIL_SUBJECT = "Uitnodiging voor het MDO-portaal / Invitation to the MDO Portal"
# Content-free: no child, no school, no reason. Only that a link waits.
MAIL_BODY = (
    "U bent uitgenodigd voor het MDO-portaal.\n\n"
    "Open de link hieronder, log in (bijvoorbeeld met DigiD) en bevestig de uitnodiging. "
    "De link werkt één keer en is geldig tot en met {until}.\n\n{link}\n\n"
    "Verwachtte u deze uitnodiging niet? Dan kunt u dit bericht negeren.\n\n"
    "---\n\n"
    "You have been invited to the MDO Portal.\n\n"
    "Open the link below, log in and confirm the invitation. "
    "The link works once and is valid until {until}.\n\n{link}\n"
)
# What the outbox keeps of an invitation once it is delivered (or given up):
# the code must not outlive its delivery anywhere but as a hash.
SCRUBBED_BODY = "(uitnodiging verzonden; de link is uit de wachtrij verwijderd)"


class Status(enum.StrEnum):
    SENT = "sent"
    OPENED = "opened"
    BOUND = "bound"
    EXPIRED = "expired"
    REVOKED = "revoked"


def status_of(invitation: FamilyInvitation, now: datetime) -> Status:
    if invitation.bound_at is not None:
        return Status.BOUND
    if invitation.revoked_at is not None:
        return Status.REVOKED
    if now >= invitation.expires_at:
        return Status.EXPIRED
    return Status.OPENED if invitation.opened_at is not None else Status.SENT


@dataclass(frozen=True)
class InvitationRow:
    id: str
    status: Status
    sent_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Invitee:
    """One person the school may invite about this child."""

    key: str  # the person's id, or PUPIL for a pupil without an account yet
    relation: str  # a Relation value, or PUPIL
    email: str | None
    bound: bool
    active: bool
    invitation: InvitationRow | None

    @property
    def can_invite(self) -> bool:
        return self.active and not self.bound


@dataclass(frozen=True)
class ChildInvitations:
    child_id: str
    child_name: str
    is_16_plus: bool
    invitees: tuple[Invitee, ...]


@dataclass(frozen=True)
class ChildSummary:
    child_id: str
    child_name: str
    is_16_plus: bool
    pupil_invitable: bool  # 16+ and no login bound to the pupil yet
    pending: int  # invitations sent or opened, not yet bound
    bound: int
    expired: int  # to send again


def child_name(db: Session, vault: Vault, child: Child) -> str:
    """The child's name: call only after the read is decided and recorded."""
    return vault.open(db, child.name_ct, child_field(child.id, "name"))


def _is_16_plus(db: Session, vault: Vault, child: Child, now: datetime) -> bool:
    birthdate = date.fromisoformat(vault.open(db, child.birthdate_ct,
                                              child_field(child.id, "birthdate")))
    today = local_date(now)
    return today >= birthdate and age_on(birthdate, today) >= PUPIL_AGE


def _gate(db: Session, who: Requester, actor: Actor, now: datetime, child_id: str, *,
          event_type: str, action: str, object_type: str = "child",
          object_id: str | None = None) -> Child:
    """Decide and record; an unknown child is refused without naming any child."""
    child = db.get(Child, child_id) if is_uuid(child_id) else None
    if child is None:
        denied = Deny(reason="no_such_child", hide=True)
        record(db, who, now, event_type=event_type, action=action, decision=denied,
               object_type="child")
        raise AccessDenied(denied)
    decision = decide(actor, Action.INVITATION_MANAGE,
                      child=ChildFacts(child_id=child.id, school_id=child.school_id))
    record(db, who, now, event_type=event_type, action=action, decision=decision,
           child_id=child.id, object_type=object_type, object_id=object_id or child.id)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    return child


def overview(db: Session, vault: Vault, who: Requester, actor: Actor,
             now: datetime) -> list[ChildSummary]:
    """The children of the actor's schools, each read decided and recorded on its own."""
    decision = decide(actor, Action.INVITATION_LIST)
    record(db, who, now, event_type="invitation.list", action="read", decision=decision)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    schools = actor.organisations_with(Action.INVITATION_MANAGE)
    children = db.scalars(select(Child).where(Child.school_id.in_(sorted(schools)))
                          .order_by(Child.id)).all()
    invitations = _invitations(db, [c.id for c in children])
    pupils = [c.person_id for c in children if c.person_id]
    bound_pupils = set(db.scalars(select(Person.id).where(
        Person.id.in_(pupils), Person.idp.is_not(None)))) if pupils else set()
    summaries = []
    for child in children:
        decision = decide(actor, Action.INVITATION_MANAGE,
                          child=ChildFacts(child_id=child.id, school_id=child.school_id))
        record(db, who, now, event_type="invitation.child.list", action="read",
               decision=decision, child_id=child.id, object_type="child", object_id=child.id)
        if isinstance(decision, Deny):
            continue
        mine = [i for i in invitations if i.child_id == child.id]
        statuses = [status_of(i, now) for i in mine]
        is_16 = _is_16_plus(db, vault, child, now)
        summaries.append(ChildSummary(
            child_id=child.id, child_name=child_name(db, vault, child), is_16_plus=is_16,
            pupil_invitable=is_16 and child.person_id not in bound_pupils,
            pending=sum(s in (Status.SENT, Status.OPENED) for s in statuses),
            bound=sum(s is Status.BOUND for s in statuses),
            expired=sum(s is Status.EXPIRED for s in statuses)))
    return sorted(summaries, key=lambda s: s.child_name.casefold())


def _invitations(db: Session, child_ids: list[str]) -> list[FamilyInvitation]:
    if not child_ids:
        return []
    return list(db.scalars(select(FamilyInvitation)
                           .where(FamilyInvitation.child_id.in_(child_ids))
                           .order_by(FamilyInvitation.sent_at)))


def child_invitations(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                      child_id: str) -> ChildInvitations:
    child = _gate(db, who, actor, now, child_id, event_type="invitation.child.view",
                  action="read")
    return _child_view(db, vault, child, now)


def _child_view(db: Session, vault: Vault, child: Child, now: datetime) -> ChildInvitations:
    latest: dict[str, FamilyInvitation] = {}
    for invitation in _invitations(db, [child.id]):
        latest[invitation.person_id] = invitation
    relations = db.execute(select(ChildRelation.relation, Person)
                           .join(Person, Person.id == ChildRelation.person_id)
                           .where(ChildRelation.child_id == child.id)
                           .order_by(ChildRelation.relation, Person.id)).all()
    rows = [_invitee(person, relation.value, latest.get(person.id), now)
            for relation, person in relations if relation in INVITABLE]
    is_16 = _is_16_plus(db, vault, child, now)
    pupil = db.get(Person, child.person_id) if child.person_id else None
    if is_16:
        rows.append(_invitee(pupil, PUPIL, latest.get(pupil.id) if pupil else None, now)
                    if pupil else Invitee(key=PUPIL, relation=PUPIL, email=None, bound=False,
                                          active=True, invitation=None))
    return ChildInvitations(child_id=child.id, child_name=child_name(db, vault, child),
                            is_16_plus=is_16, invitees=tuple(rows))


def _invitee(person: Person, relation: str, invitation: FamilyInvitation | None,
             now: datetime) -> Invitee:
    row = InvitationRow(id=invitation.id, status=status_of(invitation, now),
                        sent_at=invitation.sent_at, expires_at=invitation.expires_at) \
        if invitation else None
    return Invitee(key=person.id, relation=relation, email=person.email,
                   bound=person.idp is not None, active=person.active, invitation=row)


def invite(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
           keys: InvitationKeys, child_id: str, *, person_key: str, email: str) -> None:
    """Invite one adult around the child (or the 16+ pupil) by e-mail.

    Refused as bad input (naming the field): an unknown person, a professional,
    someone already linked or deactivated, a malformed address, the pupil
    before their 16th birthday.
    """
    child = _gate(db, who, actor, now, child_id, event_type="invitation.create",
                  action="create")
    errors: dict[str, str] = {}
    person = _invitable_person(db, vault, child, person_key, now, errors)
    # Empty: the address registered for this very person, never one shown for another.
    email = email.strip() or (person.email or "" if person is not None else "")
    if not email:
        errors["email"] = N_("No e-mail address is registered for this person: give one.")
    elif not EMAIL.match(email) or len(email) > 320:
        errors["email"] = N_("Give a valid e-mail address, such as naam@voorbeeld.nl.")
    if errors:
        raise InvalidInput(errors)
    if person is None:  # the pupil's first invitation: their account starts here
        # No name is stored for them here: the register keeps the child's name.
        person = Person(kind=PersonKind.CITIZEN, display_name="", email=email, idp=None,
                        subject=None, active=True, created_at=now)
        db.add(person)
        db.flush()
        child.person_id = person.id
    person.email = email
    _revoke_open(db, person.id, now, child_id=child.id)
    code = new_code()
    invitation = FamilyInvitation(person_id=person.id, child_id=child.id,
                                  code_hash=code_hash(keys.secret, code),
                                  created_by=actor.person_id, created_at=now, sent_at=now,
                                  expires_at=now + timedelta(days=keys.days))
    db.add(invitation)
    db.flush()
    _send(db, keys, now, email, code, invitation.expires_at)


def _invitable_person(db: Session, vault: Vault, child: Child, person_key: str, now: datetime,
                      errors: dict[str, str]) -> Person | None:
    """The person to invite; None for a 16+ pupil who has no account yet."""
    if person_key == PUPIL:
        if not _is_16_plus(db, vault, child, now):
            errors["person"] = N_("The pupil can be invited from their 16th birthday.")
            return None
        pupil = db.get(Person, child.person_id) if child.person_id else None
        return _usable(pupil, errors) if pupil else None
    relation = db.scalars(select(ChildRelation).where(
        ChildRelation.child_id == child.id,
        ChildRelation.person_id == person_key)).first() if is_uuid(person_key) else None
    if relation is None or relation.relation not in INVITABLE:
        errors["person"] = N_("Choose a parent, guardian or foster parent of this child.")
        return None
    return _usable(db.get(Person, relation.person_id), errors)


def _usable(person: Person | None, errors: dict[str, str]) -> Person | None:
    if person is None or person.kind is not PersonKind.CITIZEN:
        errors["person"] = N_("Choose a parent, guardian or foster parent of this child.")
    elif not person.active:
        errors["person"] = N_("This person is deactivated and cannot be invited.")
    elif person.idp is not None:
        errors["person"] = N_("This person already has a login linked to the portal.")
    return person


def _send(db: Session, keys: InvitationKeys, now: datetime, email: str, code: str,
          until: datetime) -> None:
    enqueue(db, now, kind=MAIL_KIND, recipient=email, subject=MAIL_SUBJECT,
            body=MAIL_BODY.format(link=link(keys, code), until=local_time(until, "%d-%m-%Y")))


def _revoke_open(db: Session, person_id: str, now: datetime,
                 child_id: str | None = None) -> None:
    """Withdraw the person's invitations still waiting (for one child, or all)."""
    query = update(FamilyInvitation).where(FamilyInvitation.person_id == person_id,
                                           FamilyInvitation.bound_at.is_(None),
                                           FamilyInvitation.revoked_at.is_(None))
    if child_id is not None:
        query = query.where(FamilyInvitation.child_id == child_id)
    db.execute(query.values(revoked_at=now))


def _invitation(db: Session, who: Requester, actor: Actor, now: datetime, invitation_id: str,
                *, event_type: str) -> FamilyInvitation:
    invitation = db.get(FamilyInvitation, invitation_id) if is_uuid(invitation_id) else None
    if invitation is None:
        denied = Deny(reason="no_such_invitation", hide=True)
        record(db, who, now, event_type=event_type, action="update", decision=denied,
               object_type="family_invitation")
        raise AccessDenied(denied)
    _gate(db, who, actor, now, invitation.child_id, event_type=event_type, action="update",
          object_type="family_invitation", object_id=invitation.id)
    return invitation


def resend(db: Session, who: Requester, actor: Actor, now: datetime, keys: InvitationKeys,
           invitation_id: str) -> None:
    """A new code and a new expiry: the link sent before stops working."""
    invitation = _invitation(db, who, actor, now, invitation_id, event_type="invitation.resend")
    person = db.get(Person, invitation.person_id)
    if invitation.bound_at is not None or person is None or person.idp is not None:
        raise InvalidInput({"invitation": N_("This invitation has already been used.")})
    if not person.active:
        raise InvalidInput({"invitation": N_(
            "This person is deactivated and cannot be invited.")})
    if not person.email:
        raise InvalidInput({"invitation": N_("This person has no e-mail address.")})
    code = new_code()
    invitation.code_hash = code_hash(keys.secret, code)
    invitation.sent_at = now
    invitation.expires_at = now + timedelta(days=keys.days)
    invitation.opened_at = None
    invitation.revoked_at = None
    db.flush()
    _send(db, keys, now, person.email, code, invitation.expires_at)


def revoke(db: Session, who: Requester, actor: Actor, now: datetime,
           invitation_id: str) -> None:
    invitation = _invitation(db, who, actor, now, invitation_id, event_type="invitation.revoke")
    if invitation.bound_at is not None:
        raise InvalidInput({"invitation": N_(
            "This invitation has been used; unlink the login instead.")})
    if invitation.revoked_at is None:
        invitation.revoked_at = now
    db.flush()


def unbind(db: Session, sessions: SessionStore, who: Requester, actor: Actor, now: datetime,
           child_id: str, person_key: str) -> None:
    """Unlink a family member's login (e.g. after a custody change): logged out at once."""
    child = _gate(db, who, actor, now, child_id, event_type="invitation.unbind",
                  action="update", object_type="person",
                  object_id=person_key if is_uuid(person_key) else None)
    related = person_key == child.person_id or db.scalars(select(ChildRelation.id).where(
        ChildRelation.child_id == child.id, ChildRelation.person_id == person_key)).first()
    person = db.get(Person, person_key) if related and is_uuid(person_key) else None
    if person is None or person.kind is not PersonKind.CITIZEN:
        raise InvalidInput({"person": N_("Choose a family member of this child.")})
    if person.idp is None:
        raise InvalidInput({"person": N_("No login is linked to this person.")})
    person.idp = None
    person.subject = None
    _revoke_open(db, person.id, now)
    sessions.delete_for_user(person.id)
    db.flush()


def scrub_sent(db: Session, _now: datetime) -> None:
    """Blank delivered (or abandoned) invitation mail: the code then exists only as a hash.

    A mail-dispatcher job: it runs each round, in its own transaction."""
    db.execute(update(OutboxMessage).where(
        OutboxMessage.kind == MAIL_KIND, OutboxMessage.body != SCRUBBED_BODY,
        (OutboxMessage.sent_at.is_not(None)) | (OutboxMessage.attempts >= MAX_ATTEMPTS))
        .values(body=SCRUBBED_BODY))
