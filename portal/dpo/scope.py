"""Which organisations and cases an FG oversees, and who the FG of a case is.

Each school board and youth-care provider has its own FG (DOMAIN.md). An FG
oversees the people of their own organisation and the cases their
organisation takes part in, not other organisations' internal records. An FG
of the operator's organisation (kind ``portal``) supervises the whole portal:
that is an explicit role of its own, and the one place that widens the scope.
It holds only while a supervision grant (``portal dpo supervise``) is in force,
and every use of it is named on the access record it allows (``supervised``).

Every FG-facing feature asks these functions; none decides scope itself.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from portal.audit.models import AccessRecord
from portal.cases.models import Case, CaseParticipant
from portal.dpo.models import SupervisionGrant
from portal.people.models import Child, Membership, Organisation, OrganisationKind, Person, Role
from portal.policy import Actor, Allow, Decision


def supervision_grant(db: Session, actor: Actor) -> str | None:
    """The id of the supervision grant in force for an FG of the operator's organisation."""
    orgs = {org for org, role in actor.memberships if role == Role.DPO}
    if not orgs:
        return None
    operator = db.scalar(select(Organisation.id).where(
        Organisation.id.in_(orgs), Organisation.kind == OrganisationKind.PORTAL).limit(1))
    if operator is None:
        return None
    return db.scalar(select(SupervisionGrant.id).where(
        SupervisionGrant.person_id == actor.person_id, SupervisionGrant.revoked_at.is_(None))
        .order_by(SupervisionGrant.granted_at).limit(1))


def supervises_portal(db: Session, actor: Actor) -> bool:
    """An FG of the operator's organisation with a supervision grant in force."""
    return supervision_grant(db, actor) is not None


def supervised(db: Session, actor: Actor, decision: Decision) -> Decision:
    """The decision as the access record should carry it: an allowed FG read made under
    the supervision grant names the grant in its basis, so every use is on record."""
    if not isinstance(decision, Allow):
        return decision
    grant = supervision_grant(db, actor)
    if grant is None:
        return decision
    return Allow(basis=f"{decision.basis};supervision:{grant}",
                 consent_ids=decision.consent_ids, legal_ground=decision.legal_ground,
                 break_glass_id=decision.break_glass_id)


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


def fg_case_ids(db: Session, actor: Actor) -> Select[str] | None:
    """The cases the FG's organisations hold or take part in, as a subquery;
    ``None`` for the supervisor (every case)."""
    if supervises_portal(db, actor):
        return None
    return _cases_of(fg_organisations(db, actor))


def fg_record_scope(db: Session, actor: Actor) -> ColumnElement[bool] | None:
    """Which access records the FG oversees; ``None`` for the supervisor (all of them).

    Records made by the people of the FG's organisations, records about cases
    those organisations take part in, and records about a child of one of their
    schools that concern no case. Another organisation's internal case stays out
    of view, even when it is about a pupil of the FG's school."""
    if supervises_portal(db, actor):
        return None
    orgs = fg_organisations(db, actor)
    people = select(Membership.person_id).where(Membership.organisation_id.in_(orgs))
    pupils = select(Child.id).where(Child.school_id.in_(orgs))
    return or_(AccessRecord.user_organisation_id.in_(orgs),
               AccessRecord.user_id.in_(people),
               AccessRecord.case_id.in_(_cases_of(orgs)),
               and_(AccessRecord.case_id.is_(None), AccessRecord.child_id.in_(pupils)))


def _cases_of(orgs: frozenset[str]) -> Select[str]:
    taking_part = select(CaseParticipant.case_id).where(CaseParticipant.organisation_id.in_(orgs))
    return select(Case.id).where(or_(Case.organisation_id.in_(orgs), Case.id.in_(taking_part)))


def fg_emails(db: Session, organisation_ids: frozenset[str] | set[str]) -> list[str]:
    """The active FGs' addresses of these organisations; the supervisor's where none has one."""
    emails = _dpo_emails(db, Membership.organisation_id.in_(organisation_ids))
    if not emails:
        # The supervisor: an FG of the operator's organisation holding a grant.
        granted = select(SupervisionGrant.person_id).where(SupervisionGrant.revoked_at.is_(None))
        emails = _dpo_emails(db, and_(
            Membership.organisation_id.in_(select(Organisation.id).where(
                Organisation.kind == OrganisationKind.PORTAL)),
            Membership.person_id.in_(granted)))
    return sorted(emails)


def fg_emails_for_case(db: Session, case_id: str) -> list[str]:
    """The FG of every organisation in the case (the supervisor's where none has one)."""
    return fg_emails(db, case_organisations(db, case_id))


def _dpo_emails(db: Session, where: ColumnElement[bool]) -> set[str]:
    return {str(e) for e in db.scalars(
        select(Person.email).join(Membership, Membership.person_id == Person.id)
        .where(Membership.role == Role.DPO, where, Person.active.is_(True),
               Person.email.is_not(None)).distinct())}
