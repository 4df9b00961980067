"""Which roles of an organisation may invoke a legal ground without consent.

The leaflet's exemptions (meldrecht, OTS, TLV, safety) are for a specific
disclosure by someone who carries that responsibility: by default the care
coordinator, the school leader and the youth-care professional
(``portal.consent.invokers.DEFAULT_GROUND_ROLES``). The organisation's
administrator may choose otherwise here; the choice is stored as
``organisation_ground_role`` rows (read by ``portal.consent.grounds`` on the
next request), kept as a history row (``GroundRoleChange``), and recorded as
an access record naming the organisation.

An administrator configures the organisations they administer; an
administrator of the portal's own organisation (the operator) those of every
organisation, as with the consent rules. The portal's own organisation has no
cases, so it has no ground roles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.admin.models import GroundRoleChange
from portal.audit.service import Requester, record
from portal.cases.capacity import CONTENT_FREE_ROLES
from portal.cases.gate import is_uuid
from portal.consent.invokers import DEFAULT_GROUND_ROLES, ground_roles
from portal.consent.models import OrganisationGroundRole
from portal.errors import N_, AccessDenied, InvalidInput
from portal.people.models import Organisation, OrganisationKind, Person, Role
from portal.policy import Action, Actor, Deny, decide

# Every professional role that can take part in a case; the DPO and the
# administrator read no case content, so they can never invoke a ground.
CHOOSABLE = tuple(role.value for role in Role if role not in CONTENT_FREE_ROLES)


@dataclass(frozen=True)
class LastChange:
    at: datetime
    by: str  # the administrator's name, or "" when their account is gone


@dataclass(frozen=True)
class GroundRolesRow:
    organisation_id: str
    name: str
    roles: frozenset[str]
    default: bool  # nothing configured: the defaults apply
    last_change: LastChange | None


def administered(db: Session, actor: Actor) -> list[Organisation]:
    """The organisations whose ground roles the actor may set (never the portal's own)."""
    mine = actor.organisations_with(Action.ORGANISATION_MANAGE)
    if not mine:
        return []
    query = select(Organisation).where(Organisation.kind != OrganisationKind.PORTAL)
    operator = db.scalars(select(Organisation.id).where(
        Organisation.id.in_(sorted(mine)), Organisation.kind == OrganisationKind.PORTAL)).first()
    if operator is None:
        query = query.where(Organisation.id.in_(sorted(mine)))
    return list(db.scalars(query.order_by(Organisation.name)))


def _require_admin(db: Session, who: Requester, actor: Actor, now: datetime) -> None:
    decision = decide(actor, Action.ORGANISATION_MANAGE)
    record(db, who, now, event_type="admin.ground_roles.view", action="read", decision=decision)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)


def default_roles() -> list[str]:
    """The roles that may invoke a ground where the organisation chose none, in role order."""
    return [role for role in CHOOSABLE if role in DEFAULT_GROUND_ROLES]


def ground_roles_page(db: Session, who: Requester, actor: Actor,
                      now: datetime) -> list[GroundRolesRow]:
    """Each administered organisation's ground roles (the defaults where none were set)."""
    _require_admin(db, who, actor, now)
    organisations = administered(db, actor)
    configured = set(db.scalars(select(OrganisationGroundRole.organisation_id).distinct()))
    return [GroundRolesRow(o.id, o.name, ground_roles(db, o.id), o.id not in configured,
                           _last_change(db, o.id))
            for o in organisations]


def _last_change(db: Session, organisation_id: str) -> LastChange | None:
    row = db.execute(
        select(GroundRoleChange.changed_at, Person.display_name)
        .outerjoin(Person, Person.id == GroundRoleChange.changed_by)
        .where(GroundRoleChange.organisation_id == organisation_id)
        .order_by(GroundRoleChange.changed_at.desc(), GroundRoleChange.id.desc())
        .limit(1)).first()
    return None if row is None else LastChange(at=row[0], by=row[1] or "")


def set_ground_roles(db: Session, who: Requester, actor: Actor, now: datetime, *,
                     organisation_id: str, roles: Iterable[str]) -> None:
    """Replace the roles of one organisation that may invoke a ground; recorded.

    An organisation the actor does not administer is refused as not found (its
    refusal recorded too); at least one role must remain, since an organisation
    without anyone who may report to Veilig Thuis cannot meet the leaflet.
    """
    organisation = db.get(Organisation, organisation_id) if is_uuid(organisation_id) else None
    decision = decide(actor, Action.ORGANISATION_MANAGE)
    if decision.allowed and (organisation is None or organisation.id not in
                             {o.id for o in administered(db, actor)}):
        decision = Deny(reason="no_such_organisation", hide=True)
    chosen = sorted(set(roles))
    if decision.allowed and (not chosen or not set(chosen) <= set(CHOOSABLE)):
        # Refused input changes nothing and reads nothing: no record of a write that never was.
        raise InvalidInput({"roles": N_("Choose at least one role that may invoke a legal "
                                        "ground.")})
    record(db, who, now, event_type="admin.ground_roles.update", action="update",
           decision=decision, object_type="organisation",
           object_id=organisation.id if organisation else None)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    assert organisation is not None
    db.execute(delete(OrganisationGroundRole)
               .where(OrganisationGroundRole.organisation_id == organisation.id))
    db.add_all(OrganisationGroundRole(organisation_id=organisation.id, role=role)
               for role in chosen)
    db.add(GroundRoleChange(organisation_id=organisation.id, roles=",".join(chosen),
                            changed_by=actor.person_id, changed_at=now))
    db.flush()

