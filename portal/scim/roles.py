"""From a directory's groups to a person's roles in the organisation.

A group maps to a portal role by the organisation's configured names, or by
being named like the role itself ("care_coordinator"). A school's directory
can never make someone the portal's administrator or its DPO: those roles
belong to the operator's own organisation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.people.models import Membership, Organisation, OrganisationKind, Role
from portal.scim.models import ScimGroup, ScimGroupMember
from portal.staff.lifecycle import end_memberships

OPERATOR_ROLES = frozenset({Role.ADMIN, Role.DPO})


def group_role(name: str, group_roles: Mapping[str, str],
               organisation: Organisation) -> Role | None:
    value = group_roles.get(name, name)
    if value not in Role._value2member_map_:
        return None
    role = Role(value)
    if role in OPERATOR_ROLES and organisation.kind is not OrganisationKind.PORTAL:
        return None
    return role


def apply_group_roles(db: Session, who: Requester, now: datetime, organisation: Organisation,
                      person_ids: Iterable[str], group_roles: Mapping[str, str]) -> None:
    """Make each person's memberships of the organisation what their groups say."""
    for person_id in sorted(set(person_ids)):
        names = db.scalars(
            select(ScimGroup.display_name)
            .join(ScimGroupMember, ScimGroupMember.group_id == ScimGroup.id)
            .where(ScimGroup.organisation_id == organisation.id,
                   ScimGroupMember.person_id == person_id)).all()
        wanted = {role for name in names
                  if (role := group_role(name, group_roles, organisation)) is not None}
        current = set(db.scalars(select(Membership.role).where(
            Membership.person_id == person_id, Membership.organisation_id == organisation.id)))
        if wanted == current:
            continue
        if not wanted:
            # No role left: the membership ends, with everything that follows.
            end_memberships(db, who, now, person_id, {organisation.id},
                            reason="scim_groups")
            continue
        db.execute(delete(Membership).where(Membership.person_id == person_id,
                                            Membership.organisation_id == organisation.id))
        for role in sorted(wanted):
            db.add(Membership(person_id=person_id, organisation_id=organisation.id, role=role))
        record(db, who, now, event_type="scim.membership.update", action="update",
               outcome="allowed", object_type="person", object_id=person_id,
               purpose_of_use="administration",
               query=f"roles={','.join(sorted(r.value for r in wanted))}")
        db.flush()
