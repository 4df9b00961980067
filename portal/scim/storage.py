"""The portal's people and groups as SCIM resources, for one organisation's directory.

``scim2-server`` speaks the protocol; this storage reads and writes the
portal's tables, in the request's transaction, seeing only the resources of
the organisation whose token authenticated the request (another
organisation's user is "not found"). Every operation is an access record;
deactivating or deleting a user runs the staff lifecycle.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Union

from scim2_models import (
    InvalidValueException,
    Meta,
    NotFoundException,
    Resource,
    ResourceType,
    ResponseParameters,
    ScimFilter,
    SearchRequest,
    UniquenessException,
)
from scim2_models.path import CompareOperator, Comparison
from scim2_server.storage import ScimStorage, SearchPage
from scim2_server.utils import parametrize
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.cases.gate import is_uuid
from portal.db import new_id
from portal.people.models import Organisation, Person, PersonKind
from portal.scim.models import ScimGroup, ScimGroupMember, ScimUser
from portal.scim.roles import apply_group_roles
from portal.scim.schema import USER_SCHEMA
from portal.staff.lifecycle import deactivate, end_memberships

# Kept by the portal itself, never from the stored payload.
SERVER_ATTRIBUTES = ("schemas", "id", "meta", "groups", "externalId", "userName")
NAME_MAX = 200


def _version(number: int) -> str:
    return f'W/"{number}"'


class PortalStorage(ScimStorage):
    """One request's view of one organisation's provisioned users and groups."""

    def __init__(self, db: Session, organisation: Organisation, who: Requester, now: datetime,
                 models: Mapping[str, type[Resource[Any]]],
                 group_roles: Mapping[str, str]) -> None:
        self.db = db
        self.organisation = organisation
        self.who = who
        self.now = now
        self.models = models
        self.group_roles = group_roles

    # -- the protocol's operations ------------------------------------------------

    def get(self, resource_type: ResourceType, resource_id: str, *,
            response_parameters: ResponseParameters[Any] | None = None) -> Resource[Any]:
        resource = self._user(resource_id) if resource_type.name == "User" \
            else self._group(resource_id)
        self._record(resource_type, "read", "read", resource_id)
        return resource

    def search(self, resource_types: list[ResourceType], search_request: SearchRequest[Any],
               *, position: Any = None) -> SearchPage:
        resources: list[Resource[Any]] = []
        equality = _equality(search_request.filter)
        for resource_type in resource_types:
            if resource_type.name == "User":
                users = select(ScimUser).where(
                    ScimUser.organisation_id == self.organisation.id)
                # A directory looks each user up by userName or externalId before it
                # writes: answered by the index, not by reading every user.
                if equality is not None and equality[0] == "username":
                    users = users.where(ScimUser.user_name_key == equality[1].lower())
                elif equality is not None and equality[0] == "externalid":
                    users = users.where(ScimUser.external_id == equality[1])
                resources += self._users(self.db.scalars(users).all())
            else:
                groups = select(ScimGroup.id).where(
                    ScimGroup.organisation_id == self.organisation.id)
                if equality is not None and equality[0] == "displayname":
                    groups = groups.where(
                        func.lower(ScimGroup.display_name) == equality[1].lower())
                resources += [self._group(group_id) for group_id in self.db.scalars(groups)]
            self._record(resource_type, "search", "read", None)
        scim_filter = search_request.filter
        if scim_filter is not None and not scim_filter.models and resources:
            models = tuple(dict.fromkeys(type(r) for r in resources))
            scim_filter = parametrize(ScimFilter, Union[models])(str(scim_filter))  # noqa: UP007
        found = sorted((r for r in resources if scim_filter is None or scim_filter.match(r)),
                       key=lambda r: str(r.id))
        start = search_request.start_index_0 or 0
        stop = None if search_request.count is None else start + search_request.count
        return SearchPage(len(found), found[start:stop])

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        if resource_type.name == "User":
            person_id = self._write_user(None, resource)
            self._record(resource_type, "create", "create", person_id)
            return self._user(person_id)
        group_id = self._write_group(None, resource)
        self._record(resource_type, "create", "create", group_id)
        return self._group(group_id)

    def update(self, resource_type: ResourceType, resource: Resource[Any], *,
               expected_version: str | None = None) -> Resource[Any]:
        resource_id = str(resource.id)
        if resource_type.name == "User":
            self._user_row(resource_id)
            self._write_user(resource_id, resource)
            self._record(resource_type, "update", "update", resource_id)
            return self._user(resource_id)
        self._group_row(resource_id)
        self._write_group(resource_id, resource)
        self._record(resource_type, "update", "update", resource_id)
        return self._group(resource_id)

    def delete(self, resource_type: ResourceType, resource_id: str, *,
               expected_version: str | None = None) -> None:
        if resource_type.name == "User":
            row = self._user_row(resource_id)
            person = self.db.get_one(Person, row.person_id)
            groups = self.db.scalars(select(ScimGroupMember).join(
                ScimGroup, ScimGroup.id == ScimGroupMember.group_id).where(
                ScimGroup.organisation_id == self.organisation.id,
                ScimGroupMember.person_id == person.id)).all()
            for member in groups:
                self.db.delete(member)
            end_memberships(self.db, self.who, self.now, person.id, {self.organisation.id},
                            reason="scim_delete")
            deactivate(self.db, self.who, self.now, person, reason="scim_delete",
                       organisation_ids={self.organisation.id})
            self.db.delete(row)
        else:
            group = self._group_row(resource_id)
            members = self._member_ids(group.id)
            self.db.delete(group)
            self.db.flush()
            apply_group_roles(self.db, self.who, self.now, self.organisation, members,
                              self.group_roles)
        self._record(resource_type, "delete", "delete", resource_id)
        self.db.flush()

    # -- users -----------------------------------------------------------------------

    def _user_row(self, resource_id: str) -> ScimUser:
        row = self.db.get(ScimUser, resource_id) if is_uuid(resource_id) else None
        if row is None or row.organisation_id != self.organisation.id:
            raise NotFoundException(detail=f"User {resource_id!r} not found")
        return row

    def _user(self, person_id: str) -> Resource[Any]:
        return self._users([self._user_row(person_id)])[0]

    def _users(self, rows: Sequence[ScimUser]) -> list[Resource[Any]]:
        """The users as resources, in three queries whatever their number."""
        ids = [row.person_id for row in rows]
        people = {p.id: p for p in self.db.scalars(select(Person).where(Person.id.in_(ids)))}
        groups: dict[str, list[tuple[str, str]]] = {}
        for person_id, group_id, name in self.db.execute(
                select(ScimGroupMember.person_id, ScimGroup.id, ScimGroup.display_name)
                .join(ScimGroup, ScimGroup.id == ScimGroupMember.group_id)
                .where(ScimGroupMember.person_id.in_(ids),
                       ScimGroup.organisation_id == self.organisation.id)
                .order_by(ScimGroup.display_name)):
            groups.setdefault(person_id, []).append((group_id, name))
        return [self._user_resource(row, people[row.person_id], groups.get(row.person_id, []))
                for row in rows]

    def _user_resource(self, row: ScimUser, person: Person,
                       groups: Sequence[tuple[str, str]]) -> Resource[Any]:
        data = {**json.loads(row.resource), "schemas": [USER_SCHEMA], "id": person.id,
                "userName": row.user_name}
        if "active" in data or not person.active:
            # Absent means active; an account the administrator disabled reads inactive.
            data["active"] = person.active
        if row.external_id is not None:
            data["externalId"] = row.external_id
        if groups:
            data["groups"] = [{"value": group_id, "display": name, "type": "direct",
                               "$ref": f"Groups/{group_id}"} for group_id, name in groups]
        resource = self.models["User"].model_validate(data)
        resource.meta = Meta(resource_type="User", created=row.created_at,
                             last_modified=row.updated_at, version=_version(row.version))
        return resource

    def _write_user(self, person_id: str | None, resource: Resource[Any]) -> str:
        data = resource.model_dump(mode="json", exclude_none=True)
        user_name = str(data.get("userName", "")).strip()
        key = user_name.lower()
        taken = self.db.scalar(select(ScimUser.person_id).where(
            ScimUser.organisation_id == self.organisation.id, ScimUser.user_name_key == key))
        if taken is not None and taken != person_id:
            raise UniquenessException(detail="userName is already taken")
        active = data.get("active", True) is not False
        kept = {k: v for k, v in data.items() if k not in SERVER_ATTRIBUTES}
        if person_id is None:
            person = Person(id=new_id(), kind=PersonKind.PROFESSIONAL, created_at=self.now,
                            display_name="", active=active)
            self.db.add(person)
            row = ScimUser(person_id=person.id, organisation_id=self.organisation.id,
                           created_at=self.now, version=0)
            self.db.add(row)
        else:
            row = self._user_row(person_id)
            person = self.db.get_one(Person, person_id)
        row.user_name, row.user_name_key = user_name[:255], key[:255]
        row.external_id = str(data["externalId"])[:255] if data.get("externalId") else None
        row.resource = json.dumps(kept, sort_keys=True)
        row.version += 1
        row.updated_at = self.now
        person.display_name = _display_name(data, user_name)
        person.email = _email(data, user_name)
        self.db.flush()
        if person.active and not active:
            deactivate(self.db, self.who, self.now, person, reason="scim_inactive",
                       organisation_ids={self.organisation.id})
        elif active and not person.active:
            person.active = True
            record(self.db, self.who, self.now, event_type="staff.account.activate",
                   action="update", outcome="allowed", object_type="person",
                   object_id=person.id, purpose_of_use="administration")
        self.db.flush()
        return person.id

    # -- groups ----------------------------------------------------------------------

    def _group_row(self, resource_id: str) -> ScimGroup:
        group = self.db.get(ScimGroup, resource_id) if is_uuid(resource_id) else None
        if group is None or group.organisation_id != self.organisation.id:
            raise NotFoundException(detail=f"Group {resource_id!r} not found")
        return group

    def _member_ids(self, group_id: str) -> list[str]:
        return list(self.db.scalars(select(ScimGroupMember.person_id)
                                    .where(ScimGroupMember.group_id == group_id)))

    def _group(self, group_id: str) -> Resource[Any]:
        group = self._group_row(group_id)
        members = self.db.execute(
            select(ScimGroupMember.person_id, ScimGroupMember.display)
            .where(ScimGroupMember.group_id == group_id)
            .order_by(ScimGroupMember.person_id)).all()
        data: dict[str, Any] = {"id": group.id, "displayName": group.display_name}
        if group.external_id is not None:
            data["externalId"] = group.external_id
        if members:
            data["members"] = [{"value": person_id, "display": display, "type": "User",
                                "$ref": f"Users/{person_id}"} for person_id, display in members]
        resource = self.models["Group"].model_validate(data)
        resource.meta = Meta(resource_type="Group", created=group.created_at,
                             last_modified=group.updated_at, version=_version(group.version))
        return resource

    def _write_group(self, group_id: str | None, resource: Resource[Any]) -> str:
        data = resource.model_dump(mode="json", exclude_none=True)
        name = str(data.get("displayName", "")).strip()[:255]
        taken = self.db.scalar(select(ScimGroup.id).where(
            ScimGroup.organisation_id == self.organisation.id, ScimGroup.display_name == name))
        if taken is not None and taken != group_id:
            raise UniquenessException(detail="displayName is already taken")
        displays = {str(m.get("value")): m.get("display")
                    for m in data.get("members", []) or []}
        wanted = set(displays)
        known = set(self.db.scalars(select(ScimUser.person_id).where(
            ScimUser.organisation_id == self.organisation.id,
            ScimUser.person_id.in_(wanted)))) if wanted else set()
        if wanted - known:
            # Only this organisation's provisioned users can be members.
            raise InvalidValueException(detail="members must be users of this organisation")
        if group_id is None:
            group = ScimGroup(id=new_id(), organisation_id=self.organisation.id,
                              created_at=self.now, version=0)
            self.db.add(group)
            before: set[str] = set()
        else:
            group = self._group_row(group_id)
            before = set(self._member_ids(group.id))
        group.display_name = name
        group.external_id = str(data["externalId"])[:255] if data.get("externalId") else None
        group.version += 1
        group.updated_at = self.now
        self.db.flush()
        for person_id in before - wanted:
            self.db.execute(delete(ScimGroupMember).where(
                ScimGroupMember.group_id == group.id, ScimGroupMember.person_id == person_id))
        for person_id in wanted:
            member = self.db.get(ScimGroupMember, (group.id, person_id)) \
                or ScimGroupMember(group_id=group.id, person_id=person_id)
            display = displays[person_id]
            member.display = str(display)[:255] if display else None
            self.db.add(member)
        self.db.flush()
        apply_group_roles(self.db, self.who, self.now, self.organisation, before | wanted,
                          self.group_roles)
        return group.id

    def _record(self, resource_type: ResourceType, operation: str, action: str,
                object_id: str | None) -> None:
        kind = "person" if resource_type.name == "User" else "scim_group"
        record(self.db, self.who, self.now,
               event_type=f"scim.{str(resource_type.name).lower()}.{operation}", action=action,
               outcome="allowed", object_type=kind,
               object_id=object_id if object_id and is_uuid(object_id) else None,
               purpose_of_use="administration")


def _equality(scim_filter: ScimFilter[Any] | None) -> tuple[str, str] | None:
    """(attribute, value) for a filter that is one ``attr eq "string"`` on a top-level
    attribute; the narrowed candidates are still matched by the filter itself."""
    node = scim_filter.ast if scim_filter is not None else None
    if not isinstance(node, Comparison) or node.op != CompareOperator.eq \
            or not isinstance(node.value, str):
        return None
    path = str(node.attr_path)
    name = path.rsplit(":", 1)[-1]
    if "." in name or "[" in name:
        return None
    return name.lower(), node.value


def _display_name(data: Mapping[str, Any], user_name: str) -> str:
    name = data.get("name") or {}
    given = " ".join(str(name.get(k, "")) for k in ("givenName", "familyName")).strip()
    chosen = data.get("displayName") or name.get("formatted") or given or user_name
    return str(chosen).strip()[:NAME_MAX] or user_name[:NAME_MAX]


def _email(data: Mapping[str, Any], user_name: str) -> str | None:
    emails = [e for e in data.get("emails", []) or [] if e.get("value")]
    primary = next((e for e in emails if e.get("primary")), emails[0] if emails else None)
    if primary is not None:
        return str(primary["value"])[:320]
    return user_name[:320] if "@" in user_name else None
