"""When a professional's membership of an organisation ends, or their account.

Whatever ends it (the directory over SCIM, the administrator, or a login whose
provider no longer names the organisation), the same things follow in the
same transaction: every session of the person ends, they leave the cases they
took part in for that organisation, and a case whose chair left is marked as
needing a new one, with a content-free mail to the care coordinators of the
case's organisation, who may appoint one. Each step is an access record.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.cases.models import Case, CaseParticipant, CaseRole, CaseStatus
from portal.mail.service import enqueue
from portal.people.models import Membership, Person, Role
from portal.staff.models import ChairVacancy
from portal.web.session_store import SqlSessionStore

CHAIR_SUBJECT = "Een MDO heeft een nieuwe voorzitter nodig / An MDO needs a new chair"
CHAIR_BODY = (
    "De voorzitter van een MDO in het MDO-portaal is niet meer betrokken. Als intern "
    "begeleider / zorgcoördinator kunt u een nieuwe voorzitter aanwijzen: {link}\n\n"
    "The chair of an MDO in the MDO Portal has left. As care coordinator you can appoint "
    "a new chair: {link}\n"
)


@dataclass(frozen=True)
class Departure:
    """What ending a membership (or an account) changed."""

    sessions_ended: int
    cases_left: tuple[str, ...]
    chairs_vacated: tuple[str, ...]


def system_requester(name: str, organisation_id: str | None,
                     client_address: str | None = None) -> Requester:
    """Who the access record names when no logged-in person acts (the directory, a login)."""
    return Requester(user_id=None, user_name=name[:200], user_role="system",
                     organisation_id=organisation_id, session_ref=None,
                     client_address=client_address)


def end_memberships(db: Session, who: Requester, now: datetime, person_id: str,
                    organisation_ids: Collection[str], *, reason: str) -> Departure:
    """End the person's memberships of ``organisation_ids`` and everything that hangs on them."""
    if not organisation_ids:
        return Departure(0, (), ())
    ended = db.execute(
        select(Membership.organisation_id, Membership.role)
        .where(Membership.person_id == person_id,
               Membership.organisation_id.in_(organisation_ids))).all()
    db.execute(delete(Membership).where(Membership.person_id == person_id,
                                        Membership.organisation_id.in_(organisation_ids)))
    for organisation_id, role in ended:
        record(db, who, now, event_type="staff.membership.end", action="delete",
               outcome="allowed", reason=reason[:64], object_type="person",
               object_id=person_id, purpose_of_use="administration",
               query=f"organisation={organisation_id};role={role.value}")
    return leave(db, who, now, person_id, organisation_ids, reason=reason)


def deactivate(db: Session, who: Requester, now: datetime, person: Person, *, reason: str,
               organisation_ids: Collection[str] | None = None) -> Departure:
    """Disable the account: logged out everywhere, out of the cases of its organisations.

    The memberships stay (reactivating restores them); without an active
    account they grant nothing (``portal.web.endpoint._load_actor``).
    """
    person.active = False
    if organisation_ids is None:
        organisation_ids = set(db.scalars(select(Membership.organisation_id)
                                          .where(Membership.person_id == person.id)))
        organisation_ids |= set(db.scalars(select(CaseParticipant.organisation_id)
                                           .where(CaseParticipant.person_id == person.id)))
    record(db, who, now, event_type="staff.account.deactivate", action="update",
           outcome="allowed", reason=reason[:64], object_type="person", object_id=person.id,
           purpose_of_use="administration")
    db.flush()
    return leave(db, who, now, person.id, organisation_ids, reason=reason)


def leave(db: Session, who: Requester, now: datetime, person_id: str,
          organisation_ids: Collection[str], *, reason: str) -> Departure:
    """End the person's sessions and take them off the cases they joined for those organisations."""
    sessions = SqlSessionStore(db).delete_for_user(person_id)
    rows = db.scalars(select(CaseParticipant).where(
        CaseParticipant.person_id == person_id,
        CaseParticipant.organisation_id.in_(organisation_ids))).all()
    left, vacated = [], []
    for participant in rows:
        case = db.get_one(Case, participant.case_id)
        left.append(case.id)
        record(db, who, now, event_type="staff.case.leave", action="delete", outcome="allowed",
               reason=reason[:64], case_id=case.id, child_id=case.child_id,
               object_type="person", object_id=person_id, purpose_of_use="administration")
        # A closed or erased case needs no new chair: nothing more happens in it.
        if participant.case_role is CaseRole.CHAIR and case.status is CaseStatus.OPEN \
                and case.erased_at is None:
            vacated.append(case.id)
            _vacate_chair(db, who, now, case, person_id)
        db.delete(participant)
    db.flush()
    return Departure(sessions, tuple(left), tuple(vacated))


def _vacate_chair(db: Session, who: Requester, now: datetime, case: Case,
                  person_id: str) -> None:
    if db.get(ChairVacancy, case.id) is None:
        db.add(ChairVacancy(case_id=case.id, left_person_id=person_id, since=now))
    record(db, who, now, event_type="staff.case.chair_vacant", action="update",
           outcome="allowed", case_id=case.id, child_id=case.child_id, object_type="case",
           object_id=case.id, purpose_of_use="administration")


def queue_chair_notices(db: Session, now: datetime, public_url: str) -> int:
    """Mail the care coordinators of each newly chairless case once (content-free)."""
    queued = 0
    query = (select(ChairVacancy, Case.organisation_id)
             .join(Case, Case.id == ChairVacancy.case_id)
             .where(ChairVacancy.notified_at.is_(None)))
    if db.get_bind().dialect.name == "postgresql":
        # Several workers run this round; each vacancy is announced once.
        query = query.with_for_update(of=ChairVacancy, skip_locked=True)
    pending = db.execute(query).all()
    for vacancy, organisation_id in pending:
        link = f"{public_url}/cases/{vacancy.case_id}/chair"
        for email in care_coordinator_emails(db, organisation_id,
                                             exclude=vacancy.left_person_id):
            enqueue(db, now, kind="case.chair_vacant", recipient=email, subject=CHAIR_SUBJECT,
                    body=CHAIR_BODY.format(link=link))
            queued += 1
        vacancy.notified_at = now
    db.flush()
    return queued


def care_coordinators(db: Session, organisation_id: str) -> list[tuple[str, str]]:
    """(person id, name) of the active care coordinators of an organisation: who can appoint."""
    rows = db.execute(
        select(Person.id, Person.display_name).join(Membership, Membership.person_id == Person.id)
        .where(Membership.organisation_id == organisation_id,
               Membership.role == Role.CARE_COORDINATOR, Person.active.is_(True))
        .order_by(Person.display_name)).all()
    return [(person_id, name) for person_id, name in rows]


def care_coordinator_emails(db: Session, organisation_id: str, exclude: str) -> list[str]:
    rows = db.scalars(
        select(Person.email).join(Membership, Membership.person_id == Person.id)
        .where(Membership.organisation_id == organisation_id,
               Membership.role == Role.CARE_COORDINATOR, Person.active.is_(True),
               Person.id != exclude, Person.email.is_not(None))).all()
    return sorted({str(email) for email in rows})
