"""What a change of the participants does, computed with the policy before it is made.

Adding a youth-care professional can make the case youth care, so the child
(12-16) must consent too and, until then, everyone may lose sight of categories;
removing one can do the reverse. The chair sees this first and confirms it
(``ConfirmationNeeded``); a change of setting is recorded when it happens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.cases.models import Case, CaseRole
from portal.consent.engine import CHILD, Setting
from portal.consent.facts import setting_of
from portal.consent.status import ordered_categories, required_consenters
from portal.people.models import (
    Child,
    Membership,
    Organisation,
    OrganisationKind,
    PersonKind,
    Role,
)
from portal.people.names import names_of
from portal.policy import Action, Actor, CaseFacts, ItemFacts, decide
from portal.vault.service import Vault, child_field


@dataclass(frozen=True)
class Newcomer:
    """A participant as they would take part: who, for which organisation, in which role."""

    person_id: str
    organisation_id: str
    capacity_role: str
    case_role: CaseRole


@dataclass(frozen=True)
class Loss:
    person_id: str
    name: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class ChangePreview:
    setting_before: Setting
    setting_after: Setting
    new_consenters: tuple[str, ...]  # display names, the child as "name (age)"
    losses: tuple[Loss, ...]  # the actor first

    @property
    def setting_changes(self) -> bool:
        return self.setting_before is not self.setting_after

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.losses or self.new_consenters)


class ConfirmationNeeded(Exception):
    """The change has consequences the chair has not confirmed yet; nothing was changed."""

    def __init__(self, preview: ChangePreview) -> None:
        super().__init__("confirmation needed")
        self.preview = preview


def _setting(db: Session, case_organisation: str,
             capacities: Mapping[str, tuple[str, str | None]]) -> Setting:
    organisations = {org for org, _ in capacities.values()} | {case_organisation}
    kinds: dict[str, OrganisationKind] = dict(db.execute(
        select(Organisation.id, Organisation.kind)
        .where(Organisation.id.in_(organisations))).all())
    own = [(None, kinds[case_organisation])] if case_organisation in kinds else []
    return setting_of([*own, *((role, kinds[org]) for org, role in capacities.values()
                               if org in kinds)])


def _actors(db: Session, person_ids: list[str]) -> dict[str, Actor]:
    rows = db.execute(select(Membership.person_id, Membership.organisation_id, Membership.role)
                      .where(Membership.person_id.in_(person_ids))).all()
    memberships: dict[str, set[tuple[str, Role]]] = {p: set() for p in person_ids}
    for person_id, org, role in rows:
        memberships[person_id].add((org, role))
    return {p: Actor(person_id=p, kind=PersonKind.PROFESSIONAL, name="",
                     memberships=frozenset(memberships[p]))
            for p in person_ids}


def _readable(actor: Actor, facts: CaseFacts, categories: tuple[str, ...]) -> set[str]:
    return {c for c in categories
            if decide(actor, Action.ITEM_READ, facts,
                      ItemFacts(item_type="category", item_id="",
                                categories=frozenset({c}))).allowed}


def preview_change(db: Session, vault: Vault, actor: Actor, before: CaseFacts, *,
                   add: Newcomer | None = None, remove: str | None = None) -> ChangePreview:
    """The consequence of adding ``add`` or removing the participant ``remove`` (a person id).

    ``before`` are the case's facts with consent facts (loaded with the vault).
    """
    case = db.get_one(Case, before.case_id)
    capacities = {p: (before.participant_organisations.get(p, ""),
                      before.participant_roles.get(p)) for p in before.participants}
    setting_before = _setting(db, case.organisation_id, capacities)
    capacities = dict(capacities)
    participants = dict(before.participants)
    if add is not None:
        capacities[add.person_id] = (add.organisation_id, add.capacity_role)
        participants[add.person_id] = add.case_role
    if remove is not None:
        capacities.pop(remove, None)
        participants.pop(remove, None)
    setting_after = _setting(db, case.organisation_id, capacities)
    consent = before.consent
    if consent is None:
        return ChangePreview(setting_before, setting_after, (), ())
    after = replace(
        before, participants=participants,
        participant_organisations={p: org for p, (org, _) in capacities.items()},
        participant_roles={p: role for p, (_, role) in capacities.items()},
        consent=replace(consent, setting=setting_after))
    before = replace(before, consent=replace(consent, setting=setting_before))
    now_required = set(required_consenters(before.consent)) if before.consent else set()
    newly = [c for c in required_consenters(after.consent) if c not in now_required] \
        if after.consent else []
    categories = ordered_categories(consent.categories)
    staying = sorted(p for p in before.participants if p in participants)
    actors = _actors(db, staying)
    losses = []
    for person_id in staying:
        lost = _readable(actors[person_id], before, categories) \
            - _readable(actors[person_id], after, categories)
        if lost:
            losses.append((person_id, tuple(c for c in categories if c in lost)))
    names = names_of(db, vault, [*(p for p, _ in losses), *(c for c in newly if c != CHILD)])
    newcomers = tuple(_child_label(db, vault, case, consent.age) if c == CHILD
                      else names.get(c, "?") for c in newly)
    ordered = sorted(losses, key=lambda loss: (loss[0] != actor.person_id,
                                               names.get(loss[0], "")))
    return ChangePreview(setting_before, setting_after, newcomers,
                         tuple(Loss(p, names.get(p, "?"), cats) for p, cats in ordered))


def _child_label(db: Session, vault: Vault, case: Case, age: int) -> str:
    child = db.get_one(Child, case.child_id)
    return f"{vault.open(db, child.name_ct, child_field(child.id, 'name'))} ({age})"


def record_setting_change(db: Session, who: Requester, now: datetime, case: CaseFacts,
                          before: Setting, after: Setting, cause: str) -> None:
    """A change of setting is never silent: one access record naming the new setting and
    the participant (row id) whose arrival, departure or change of capacity caused it."""
    if before is after:
        return
    db.get_one(Case, case.case_id).youth_care_since = \
        now if after is Setting.YOUTH_CARE else None
    record(db, who, now, event_type="case.setting.change", action="update", outcome="allowed",
           case_id=case.case_id, child_id=case.child_id, object_type="case_participant",
           object_id=cause, reason=f"setting:{after.value}")
