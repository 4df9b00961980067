"""Starting a case: the new-case form (its children, its checks) and the case's rows.

Functions take the database session first and only ``flush()``; the request
boundary commits. The title and purpose are sealed under the case's own key.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.cases.capacity import creating_capacities
from portal.cases.gate import _require, is_uuid
from portal.cases.models import Case, CaseParticipant, CaseRole, CaseStatus, LegalBasis
from portal.cases.participants import _add_participant_row
from portal.consent.anonymous import Writer, guard_text, record_overrides
from portal.errors import N_, InvalidInput
from portal.people.models import Child
from portal.permissions import ROLE_PERMISSIONS
from portal.policy import Action, Actor, decide
from portal.search import index as search_index
from portal.vault.service import Vault, case_field, child_field
from portal.web.text import check_text

TITLE_MAX = 200
PURPOSE_MAX = 4000


@dataclass(frozen=True)
class NewCase:
    child_id: str | None
    anonymous: bool
    title: str
    purpose: str
    legal_basis: LegalBasis
    # The writer confirmed that what the identifier check finds is no identifier.
    confirm_identifiers: bool = False
    # (organisation id, role) the creator chairs the case in, when they chose one.
    capacity: tuple[str, str] | None = None


def selectable_children(db: Session, vault: Vault, who: Requester, actor: Actor,
                        now: datetime) -> list[tuple[str, str]]:
    """Children at the schools where the actor may start a case, each read recorded.

    Only someone who may create a case gets the form (and so this list)."""
    _require(db, who, actor, now, Action.CASE_CREATE, "case.create.form", "read")
    schools = actor.organisations_with(Action.CHILD_LIST)
    if not schools:
        return []
    children = db.scalars(select(Child).where(Child.school_id.in_(schools))).all()
    result = []
    for child in children:
        record(db, who, now, event_type="child.list", action="read",
               decision=decide(actor, Action.CHILD_LIST), child_id=child.id,
               object_type="child", object_id=child.id)
        result.append((child.id, vault.open(db, child.name_ct, child_field(child.id, "name"))))
    return sorted(result, key=lambda item: item[1])


def validate_new_case(actor: Actor, db: Session, *, child_id: str, anonymous: bool,
                      title: str, purpose: str, legal_basis: str,
                      confirm_identifiers: bool = False, capacity: str = "") -> NewCase:
    errors: dict[str, str] = {}
    chosen_capacity: tuple[str, str] | None = None
    if capacity:
        if capacity not in {value for value, _, _ in creating_capacities(db, actor)}:
            errors["capacity"] = N_("Choose the capacity you start this case in.")
        else:
            org_id, _, role = capacity.partition("|")
            chosen_capacity = (org_id, role)
    title, purpose = title.strip(), purpose.strip()
    if not title:
        errors["title"] = N_("Give the case a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = N_("The title is too long.")
    if not purpose:
        errors["purpose"] = N_("State the purpose of this case (doelbinding).")
    elif len(purpose) > PURPOSE_MAX:
        errors["purpose"] = N_("The purpose is too long.")
    check_text(errors, {"title": title, "purpose": purpose}, multiline=("purpose",))
    basis = LegalBasis.CONSENT
    if legal_basis != LegalBasis.CONSENT.value:
        # Other grounds are scoped disclosures (portal/consent/grounds.py), never a case's.
        errors["legal_basis"] = N_("Choose a legal basis.")
    chosen_child: str | None = None
    if not anonymous:
        child = db.get(Child, child_id) if is_uuid(child_id) else None
        if child is None or child.school_id not in actor.organisations_with(Action.CHILD_LIST):
            errors["child_id"] = N_("Choose a child, or make the case anonymous.")
        else:
            chosen_child = child.id
    if errors:
        raise InvalidInput(errors)
    return NewCase(child_id=chosen_child, anonymous=anonymous, title=title, purpose=purpose,
                   legal_basis=basis, confirm_identifiers=anonymous and confirm_identifiers,
                   capacity=chosen_capacity)


def may_create(actor: Actor) -> bool:
    """Whether the case list offers "New case": a role somewhere that may create one."""
    return bool(actor.organisations_with(Action.CASE_CREATE))


def create_case(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                new: NewCase) -> str:
    _require(db, who, actor, now, Action.CASE_CREATE, "case.create", "create")
    confirmed: dict[str, tuple[str, ...]] = {}
    if new.anonymous:
        # Nothing in an anonymous case may identify the child: checked before saving.
        confirmed = guard_text(db, vault, Writer(who, actor),
                               {"title": new.title, "purpose": new.purpose}, now,
                               confirmed=new.confirm_identifiers)
    organisations = actor.organisations_with(Action.CASE_CREATE)
    organisation_id = new.capacity[0] if new.capacity else min(organisations)
    case = create_case_rows(db, vault, now, case_id=str(uuid.uuid4()), created_by=actor.person_id,
                            organisation_id=organisation_id, new=new,
                            participants=[(actor.person_id, CaseRole.CHAIR)])
    # The chair acts for the case's organisation, in a role there that may start cases.
    creating = sorted(role.value for org, role in actor.memberships if org == organisation_id
                      and Action.CASE_CREATE in ROLE_PERMISSIONS.get(role, frozenset()))
    chair = db.scalars(select(CaseParticipant).where(
        CaseParticipant.case_id == case.id, CaseParticipant.person_id == actor.person_id)).one()
    chair.organisation_id = organisation_id
    chair.capacity_role = new.capacity[1] if new.capacity else creating[0]
    db.flush()
    record_overrides(db, case.id, actor.person_id, confirmed, now)
    record(db, who, now, event_type="case.create", action="create", outcome="allowed",
           case_id=case.id, child_id=case.child_id, object_type="case", object_id=case.id)
    return case.id


def create_case_rows(db: Session, vault: Vault, now: datetime, *, case_id: str,
                     created_by: str, organisation_id: str, new: NewCase,
                     participants: Sequence[tuple[str, CaseRole]]) -> Case:
    """The rows of a new case with its encrypted fields (no policy: callers decide)."""
    key = vault.new_key(db, "case", case_id, now)
    case = Case(
        id=case_id, child_id=new.child_id, anonymous=new.anonymous,
        organisation_id=organisation_id,
        title_ct=vault.seal(key, new.title, case_field(case_id, "title")),
        purpose_ct=vault.seal(key, new.purpose, case_field(case_id, "purpose")),
        legal_basis=new.legal_basis, status=CaseStatus.OPEN, created_at=now,
        created_by=created_by,
    )
    db.add(case)
    db.flush()
    search_index.index_case(db, vault, now, case_id, title=new.title, child_id=new.child_id)
    for person_id, case_role in participants:
        _add_participant_row(db, case_id, person_id, case_role, created_by, now)
    db.flush()
    return case
