"""The one decision point for access to case data.

``decide`` is a pure function: the service loads the facts, asks, records the
decision, and only then touches plaintext. Roles map to permissions as data
(the two tables below), not as if-chains, and lists are filtered by calling
the same function per item. A denial carries a reason; ``hide`` says the
resource's existence must not leak (the route answers 404, not 403).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from portal.cases.models import CaseRole, CaseStatus, LegalBasis
from portal.people.models import PersonKind, Role


class Action(enum.StrEnum):
    CASE_LIST = "case.list"
    CASE_CREATE = "case.create"
    CASE_VIEW = "case.view"
    CASE_MANAGE_PARTICIPANTS = "case.participants"
    CASE_CLOSE = "case.close"
    CHILD_LIST = "child.list"
    ORGANISATION_MANAGE = "organisation.manage"
    # Case content: minutes, attachments, notes. Each item carries data
    # categories; reading one is decided per item (ItemFacts).
    ITEM_READ = "item.read"
    ITEM_WRITE = "item.write"
    ITEM_ERASE = "item.erase"
    # Meetings of a case, and the action items agreed in them.
    MEETING_VIEW = "meeting.view"
    MEETING_SCHEDULE = "meeting.schedule"
    ACTION_ITEM_MANAGE = "action_item.manage"
    ACTION_ITEM_UPDATE = "action_item.update"


# What an organisational role lets a professional do outside any case.
ROLE_PERMISSIONS: Mapping[Role, frozenset[Action]] = {
    Role.MENTOR: frozenset({Action.CASE_LIST, Action.CASE_CREATE, Action.CHILD_LIST}),
    Role.CARE_COORDINATOR: frozenset({Action.CASE_LIST, Action.CASE_CREATE, Action.CHILD_LIST}),
    Role.SCHOOL_LEADER: frozenset({Action.CASE_LIST, Action.CASE_CREATE, Action.CHILD_LIST}),
    Role.YOUTH_CARE_WORKER: frozenset({Action.CASE_LIST, Action.CASE_CREATE}),
    Role.SCHOOL_SOCIAL_WORKER: frozenset({Action.CASE_LIST, Action.CASE_CREATE,
                                          Action.CHILD_LIST}),
    Role.YOUTH_PROTECTOR: frozenset({Action.CASE_LIST}),
    Role.MINUTE_TAKER: frozenset({Action.CASE_LIST}),
    # The DPO sees logs and breaches, the administrator people and
    # organisations; neither reads case content.
    Role.DPO: frozenset(),
    Role.ADMIN: frozenset({Action.ORGANISATION_MANAGE}),
}

# What a role within one case allows on that case.
CASE_ROLE_PERMISSIONS: Mapping[CaseRole, frozenset[Action]] = {
    CaseRole.CHAIR: frozenset({Action.CASE_VIEW, Action.CASE_MANAGE_PARTICIPANTS,
                               Action.CASE_CLOSE, Action.MEETING_VIEW, Action.MEETING_SCHEDULE,
                               Action.ACTION_ITEM_MANAGE, Action.ACTION_ITEM_UPDATE}),
    CaseRole.PARTICIPANT: frozenset({Action.CASE_VIEW, Action.MEETING_VIEW}),
    CaseRole.MINUTE_TAKER: frozenset({Action.CASE_VIEW, Action.MEETING_VIEW}),
    CaseRole.OBSERVER: frozenset({Action.CASE_VIEW, Action.MEETING_VIEW}),
}

CASE_ACTIONS = frozenset({Action.CASE_VIEW, Action.CASE_MANAGE_PARTICIPANTS, Action.CASE_CLOSE,
                          Action.MEETING_VIEW, Action.MEETING_SCHEDULE,
                          Action.ACTION_ITEM_MANAGE, Action.ACTION_ITEM_UPDATE})
WRITES_ON_CASE = frozenset({Action.CASE_MANAGE_PARTICIPANTS, Action.CASE_CLOSE,
                            Action.MEETING_SCHEDULE, Action.ACTION_ITEM_MANAGE,
                            Action.ACTION_ITEM_UPDATE})


@dataclass(frozen=True)
class Actor:
    """Who asks: a logged-in person with their organisational roles."""

    person_id: str
    kind: PersonKind
    name: str
    memberships: frozenset[tuple[str, Role]] = frozenset()  # (organisation id, role)

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(role for _, role in self.memberships)

    @property
    def organisation_ids(self) -> frozenset[str]:
        return frozenset(org for org, _ in self.memberships)

    def organisations_with(self, action: Action) -> frozenset[str]:
        return frozenset(org for org, role in self.memberships
                         if action in ROLE_PERMISSIONS.get(role, frozenset()))


@dataclass(frozen=True)
class CaseFacts:
    """What the policy needs to know about one case."""

    case_id: str
    status: CaseStatus
    legal_basis: LegalBasis
    anonymous: bool
    child_id: str | None
    participants: Mapping[str, CaseRole] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemFacts:
    """A piece of case content (a minutes version or section, an attachment, a note)."""

    item_type: str
    item_id: str
    categories: frozenset[str]
    shared_with_parents: bool = False
    owner_id: str | None = None  # who carries it out (action items)


@dataclass(frozen=True)
class Allow:
    basis: str
    allowed: bool = True


@dataclass(frozen=True)
class Deny:
    reason: str
    hide: bool = False
    allowed: bool = False


Decision = Allow | Deny


def decide(actor: Actor, action: Action, case: CaseFacts | None = None,
           item: ItemFacts | None = None) -> Decision:
    """Allow(basis) or Deny(reason) for ``actor`` doing ``action`` (on ``case``'s ``item``)."""
    if action in CASE_ACTIONS:
        if case is None:
            raise ValueError(f"{action} needs the case's facts")
        return _decide_on_case(actor, action, case, item)
    if any(action in ROLE_PERMISSIONS.get(role, frozenset()) for role in actor.roles):
        return Allow(basis=f"role:{'+'.join(sorted(actor.roles))}")
    return Deny(reason="insufficient_role")


def _decide_on_case(actor: Actor, action: Action, case: CaseFacts,
                    item: ItemFacts | None) -> Decision:
    case_role = case.participants.get(actor.person_id)
    if case_role is None:
        return Deny(reason="not_a_participant", hide=True)
    # Whoever carries out an action item may report on it, whatever their case role.
    owns_item = action is Action.ACTION_ITEM_UPDATE and item is not None \
        and item.owner_id == actor.person_id
    if action not in CASE_ROLE_PERMISSIONS[case_role] and not owns_item:
        return Deny(reason="insufficient_case_role")
    if action in WRITES_ON_CASE and case.status is CaseStatus.CLOSED:
        return Deny(reason="case_closed")
    return Allow(basis=f"participant:{case_role.value};basis:{case.legal_basis.value}")
