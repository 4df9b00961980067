"""The register's pages: decide per organisation, record, then unseal (portal/register/store)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.cases.gate import is_uuid
from portal.errors import N_, AccessDenied, InvalidInput
from portal.people.blind_index import blind_index
from portal.people.models import Enrolment, Organisation, OrganisationKind, Role
from portal.policy import Action, Actor, Deny, decide
from portal.register import importer, rows
from portal.register.importer import Plan
from portal.register.rows import AdultRow, RowRefused
from portal.register.store import PupilView, Writer, find_enrolment, read_pupil, read_pupils
from portal.vault.service import Vault

PAGE_SIZE = 50


@dataclass(frozen=True)
class RegisterPage:
    organisation: Organisation
    pupils: tuple[PupilView, ...]
    page: int
    more: bool
    can_edit: bool
    searched: str = ""


def _kept(actor: Actor) -> Select[Organisation]:
    """The organisations whose register the actor keeps (the portal's own has none)."""
    allowed = actor.organisations_with(Action.REGISTER_VIEW)
    return select(Organisation).where(
        Organisation.id.in_(list(allowed)), Organisation.kind != OrganisationKind.PORTAL)


def keeps_a_register(db: Session, actor: Actor) -> bool:
    """Whether /register opens for the actor: the menu and start page link it only then.

    A care coordinator keeps their school's register; only an administrator's
    right to it depends on the organisation (the portal's own has no pupils),
    so only then is the database asked."""
    allowed = actor.organisations_with(Action.REGISTER_VIEW)
    if any(org in allowed and role is not Role.ADMIN for org, role in actor.memberships):
        return True
    return bool(allowed) and db.scalar(_kept(actor).limit(1)) is not None


def registers(db: Session, who: Requester, actor: Actor, now: datetime) -> list[Organisation]:
    """The organisations whose register the actor keeps (the portal's own has none)."""
    found = list(db.scalars(_kept(actor).order_by(Organisation.name)))
    decision = decide(actor, Action.REGISTER_VIEW) if found \
        else Deny(reason="insufficient_role")
    record(db, who, now, event_type="register.index", action="read", decision=decision)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    return found


def _gate(db: Session, who: Requester, actor: Actor, now: datetime, organisation_id: str,
          action: Action, event_type: str, code: str, *, child_id: str | None = None,
          validate: Callable[[], None] | None = None) -> tuple[Organisation, Enrolment | None]:
    """Decide in the organisation and write this request's one access record for it.

    An unknown organisation (or the portal's own, which has no pupils), and a
    child not enrolled there, are refused as not found. ``validate`` runs after
    an allowed decision and before it is recorded, so refused input leaves no
    "allowed" record of a write that never happened.
    """
    organisation = db.get(Organisation, organisation_id) if is_uuid(organisation_id) else None
    if organisation is None or organisation.kind is OrganisationKind.PORTAL:
        denied = Deny(reason="no_such_organisation", hide=True)
        record(db, who, now, event_type=event_type, action=code, decision=denied,
               object_type="organisation")
        raise AccessDenied(denied)
    enrolment = None
    if child_id is not None and is_uuid(child_id):
        enrolment = db.scalars(select(Enrolment).where(
            Enrolment.organisation_id == organisation.id,
            Enrolment.child_id == child_id)).first()
    decision = decide(actor, action, organisation_id=organisation.id)
    if child_id is not None and enrolment is None and not isinstance(decision, Deny):
        decision = Deny(reason="no_such_child", hide=True)
    if validate is not None and not isinstance(decision, Deny):
        validate()
    # Only a child of this organisation is named: a made-up id never reaches the log.
    known = enrolment.child_id if enrolment is not None else None
    record(db, who, now, event_type=event_type, action=code, decision=decision, child_id=known,
           object_type="child" if known else "organisation",
           object_id=known or organisation.id)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    return organisation, enrolment


def _read(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
          enrolments: Sequence[Enrolment], event_type: str,
          with_adults: bool = True) -> dict[str, PupilView]:
    """Pupils' records read: each recorded before anything is unsealed."""
    for enrolment in enrolments:
        record(db, who, now, event_type=event_type, action="read",
               decision=decide(actor, Action.REGISTER_VIEW,
                               organisation_id=enrolment.organisation_id),
               child_id=enrolment.child_id, object_type="child", object_id=enrolment.child_id)
    return read_pupils(db, vault, enrolments, with_adults)


def register_page(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                  organisation_id: str, page: int = 0, number: str = "") -> RegisterPage:
    """One page of the register, or the pupil with ``number`` (found by its blind index)."""
    organisation, _ = _gate(db, who, actor, now, organisation_id, Action.REGISTER_VIEW,
                            "register.view", "read")
    number = number.strip()
    if number:
        found = find_enrolment(db, blind_index(db, vault, now), organisation.id, number)
        enrolments = [found] if found is not None else []
        more = False
    else:
        enrolments = list(db.scalars(
            select(Enrolment).where(Enrolment.organisation_id == organisation.id)
            .order_by(Enrolment.active.desc(), Enrolment.created_at, Enrolment.id)
            .offset(page * PAGE_SIZE).limit(PAGE_SIZE + 1)))
        more = len(enrolments) > PAGE_SIZE
        enrolments = enrolments[:PAGE_SIZE]
    pupils = list(_read(db, vault, who, actor, now, enrolments, "register.child.list",
                        with_adults=False).values())
    pupils.sort(key=lambda p: (not p.active, p.group, p.name))
    return RegisterPage(organisation, tuple(pupils), page, more,
                        decide(actor, Action.REGISTER_EDIT,
                               organisation_id=organisation.id).allowed, number)


def child_page(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
               organisation_id: str, child_id: str) -> tuple[Organisation, PupilView]:
    organisation, enrolment = _gate(db, who, actor, now, organisation_id, Action.REGISTER_VIEW,
                                    "register.child.view", "read", child_id=child_id)
    assert enrolment is not None
    return organisation, read_pupil(db, vault, enrolment)


def organisation_for_form(db: Session, who: Requester, actor: Actor, now: datetime,
                          organisation_id: str) -> Organisation:
    """The empty form for a new pupil is only for who may add one."""
    return _gate(db, who, actor, now, organisation_id, Action.REGISTER_EDIT,
                 "register.child.form", "read")[0]


def save_child(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
               organisation_id: str, child_id: str | None, form: Mapping[str, str]) -> str:
    """Add (``child_id`` None) or edit a pupil; InvalidInput names every bad field."""
    index = blind_index(db, vault, now)

    def validate() -> None:
        try:
            row = rows.pupil(dict(form), now.date())
        except RowRefused as refused:
            raise InvalidInput(refused.errors) from None
        taken = find_enrolment(db, index, organisation_id, row.pupil_number)
        if taken is not None and taken.child_id != child_id:
            raise InvalidInput({"leerlingnummer": N_(
                "This pupil number is already in use in this register.")})

    event = "register.child.create" if child_id is None else "register.child.update"
    code = "create" if child_id is None else "update"
    organisation, enrolment = _gate(db, who, actor, now, organisation_id, Action.REGISTER_EDIT,
                                    event, code, child_id=child_id, validate=validate)
    row = rows.pupil(dict(form), now.date())
    writer = Writer(db, vault, index, organisation, now)
    if enrolment is None:
        created = writer.create(row)
        # The gate could name only the organisation: this names the new child.
        record(db, who, now, event_type=event, action=code, outcome="allowed",
               child_id=created, object_type="child", object_id=created)
        return created
    current = read_pupil(db, vault, enrolment)
    writer.update(enrolment, current, replace(row, adults=current.as_row().adults))
    return enrolment.child_id


def deactivate_child(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                     organisation_id: str, child_id: str) -> None:
    """Off this register (left); the child and their adults stay for their cases."""
    _, enrolment = _gate(db, who, actor, now, organisation_id, Action.REGISTER_EDIT,
                         "register.child.deactivate", "update", child_id=child_id)
    assert enrolment is not None
    enrolment.active = False
    enrolment.updated_at = now
    db.flush()


def add_adult(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
              organisation_id: str, child_id: str, form: Mapping[str, str]) -> None:
    """A parent, guardian, foster parent or youth protector around the child."""
    found: list[AdultRow] = []

    def validate() -> None:
        try:
            adult = rows.adult(dict(form), "verzorger1_")
        except RowRefused as refused:
            raise InvalidInput(refused.errors) from None
        if adult is None:
            raise InvalidInput({"verzorger1_naam": N_("The adult's name is missing.")})
        found.append(adult)

    organisation, enrolment = _gate(db, who, actor, now, organisation_id, Action.REGISTER_EDIT,
                                    "register.adult.add", "create", child_id=child_id,
                                    validate=validate)
    assert enrolment is not None
    adult = found[0]
    current = read_pupil(db, vault, enrolment)
    contradicted = next((a for a in current.adults if a.custody_recorded
                         and a.email.lower() == adult.email.lower()
                         and a.relation is not adult.relation), None)
    if contradicted is not None:
        # Known only after unsealing, so after the allowed record: the page says
        # nothing is stored, and the transaction stores nothing else.
        raise InvalidInput({"verzorger1_gezag": N_(
            "Conflicting custody: the custody form recorded otherwise for this adult; "
            "change custody there.")})
    Writer(db, vault, blind_index(db, vault, now), organisation, now).set_adults(
        enrolment.child_id, [adult], current.adults)


def import_preview(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                   organisation_id: str, data: bytes) -> Plan:
    """The dry run: what the file would add, update, leave, and which rows are refused."""
    organisation, _ = _gate(db, who, actor, now, organisation_id, Action.REGISTER_EDIT,
                            "register.import.preview", "read")
    return _plan(db, vault, who, actor, now, organisation, data)


def import_commit(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                  organisation_id: str, data: bytes) -> Plan:
    """Check again and write everything, or (a row refused) nothing at all."""
    organisation, _ = _gate(db, who, actor, now, organisation_id, Action.REGISTER_EDIT,
                            "register.import", "create")
    plan = _plan(db, vault, who, actor, now, organisation, data)
    if not plan.ok:
        return plan
    writer = Writer(db, vault, blind_index(db, vault, now), organisation, now)
    for child_id, created in importer.commit(writer, plan):
        record(db, who, now, event_type="register.child.create" if created
               else "register.child.update", action="create" if created else "update",
               outcome="allowed", child_id=child_id, object_type="child", object_id=child_id)
    db.flush()
    return plan


def _plan(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
          organisation: Organisation, data: bytes) -> Plan:
    def read(enrolments: Sequence[Enrolment]) -> dict[str, PupilView]:
        return _read(db, vault, who, actor, now, enrolments, "register.import.compare")

    return importer.preview(db, read, blind_index(db, vault, now), organisation.id, data,
                            now.date())
