"""Which organisations and cases an FG oversees, and who the FG of a case is.

Each school board and youth-care provider has its own FG (DOMAIN.md). An FG
oversees the people of their own organisation and the cases their
organisation takes part in, not other organisations' internal records. An FG
of the operator's organisation (kind ``portal``) supervises the whole portal:
that is an explicit role of its own, and the one place that widens the scope.

Every FG-facing feature asks these functions; none decides scope itself.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from portal.cases.models import Case, CaseParticipant
from portal.people.models import Membership, Organisation, OrganisationKind, Person, Role
from portal.policy import Actor


def supervises_portal(db: Session, actor: Actor) -> bool:
    """An FG of the operator's organisation: the portal-wide supervisory role."""
    orgs = {org for org, role in actor.memberships if role == Role.DPO}
    if not orgs:
        return False
    operator = db.scalar(select(Organisation.id).where(
        Organisation.id.in_(orgs), Organisation.kind == OrganisationKind.PORTAL).limit(1))
    return operator is not None


def fg_organisations(db: Session, actor: Actor) -> frozenset[str]:
    """The organisations whose records this FG oversees (all, for the supervisor)."""
    if supervises_portal(db, actor):
        return frozenset(db.scalars(select(Organisation.id)))
    return frozenset(org for org, role in actor.memberships if role == Role.DPO)


def case_organisations(db: Session, case_id: str) -> frozenset[str]:
    """The organisation that holds the case and every organisation taking part in it."""
    owner = db.scalar(select(Case.organisation_id).where(Case.id == case_id))
    if owner is None:
        return frozenset()
    return frozenset({owner, *db.scalars(select(CaseParticipant.organisation_id)
                                         .where(CaseParticipant.case_id == case_id))})


def fg_may_see_case(db: Session, actor: Actor, case_id: str) -> bool:
    """True when the FG's organisations include one that takes part in the case."""
    return bool(fg_organisations(db, actor) & case_organisations(db, case_id))


def fg_emails(db: Session, organisation_ids: frozenset[str] | set[str]) -> list[str]:
    """The active FGs' addresses of these organisations; the supervisor's where none has one."""
    emails = _dpo_emails(db, Membership.organisation_id.in_(organisation_ids))
    if not emails:
        emails = _dpo_emails(db, Membership.organisation_id.in_(
            select(Organisation.id).where(Organisation.kind == OrganisationKind.PORTAL)))
    return sorted(emails)


def fg_emails_for_case(db: Session, case_id: str) -> list[str]:
    """The FG of every organisation in the case (the supervisor's where none has one)."""
    return fg_emails(db, case_organisations(db, case_id))


def _dpo_emails(db: Session, where: ColumnElement[bool]) -> set[str]:
    return {str(e) for e in db.scalars(
        select(Person.email).join(Membership, Membership.person_id == Person.id)
        .where(Membership.role == Role.DPO, where, Person.active.is_(True),
               Person.email.is_not(None)).distinct())}
