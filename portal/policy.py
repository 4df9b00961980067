"""The one decision point for access to case data.

``decide`` is a pure function: the service loads the facts, asks, records the
decision, and only then touches plaintext. Roles map to permissions as data
(the tables in ``portal.permissions``), not as if-chains, and lists are
filtered by calling the same function per item. A denial carries a reason;
``hide`` says the resource's existence must not leak (the route answers 404,
not 403).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from portal.cases.models import CaseRole, CaseStatus, LegalBasis
from portal.consent.access import (
    ConsentFacts,
    Standing,
    family_standing,
    item_access,
    recipient_identities,
)
from portal.consent.engine import Basis
from portal.people.models import PersonKind, Role
from portal.permissions import (
    AFTER_ERASURE,
    CASE_ACTIONS,
    CASE_ROLE_PERMISSIONS,
    CHILD_ACTIONS,
    FAMILY_ACTIONS,
    FAMILY_PERMISSIONS,
    HIDDEN_STANDINGS,
    KIND_PERMISSIONS,
    ORGANISATION_ACTIONS,
    OWNER_ACTIONS,
    ROLE_PERMISSIONS,
    SCHOOL_CHILD_ACTIONS,
    WRITES_ON_CASE,
)
from portal.permissions import Action as Action


class FamilyPart(enum.StrEnum):
    """What the family pages show of a case; each part is opened by one action."""

    EXISTENCE = "existence"  # that there is a case, its status, the organisations
    CONTENT = "content"  # title and purpose
    CONSENTS = "consents"  # the drawn consent status and the consents, to withdraw
    GIVE_CONSENT = "give_consent"


# Shared minutes and attachments are not a part: each is decided on its own (ITEM_READ).
FAMILY_PARTS: Mapping[FamilyPart, Action] = {
    FamilyPart.EXISTENCE: Action.FAMILY_GENERAL,
    FamilyPart.CONTENT: Action.FAMILY_VIEW,
    FamilyPart.CONSENTS: Action.CONSENT_WITHDRAW,
    FamilyPart.GIVE_CONSENT: Action.CONSENT_GIVE,
}


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
class BreakGlassFacts:
    """A safety-exception grant: one person, one case, until ``expires_at``."""

    grant_id: str
    person_id: str
    expires_at: datetime


@dataclass(frozen=True)
class CaseFacts:
    """What the policy needs to know about one case.

    The consent facts (``consent``, ``restricted*``, ``break_glass``, ``now``) are
    loaded by ``portal.cases.gate.case_facts`` when given the vault; reading
    an item of a named case without them is refused (fail closed).
    """

    case_id: str
    status: CaseStatus
    legal_basis: LegalBasis
    anonymous: bool
    child_id: str | None
    participants: Mapping[str, CaseRole] = field(default_factory=dict)
    # The organisation each participant takes part for (consent recipients).
    participant_organisations: Mapping[str, str] = field(default_factory=dict)
    consent: ConsentFacts | None = None
    restricted: bool = False  # the whole case is under restriction
    restricted_items: frozenset[str] = frozenset()
    break_glass: tuple[BreakGlassFacts, ...] = ()
    now: datetime | None = None  # the request's time, for the grants' expiry
    erased: bool = False  # the whole case was crypto-shredded
    organisation_id: str | None = None  # the case's own organisation
    # The role each participant acts in (their capacity in participant_organisations).
    participant_roles: Mapping[str, str | None] = field(default_factory=dict)
    # Restricted items whose accuracy the family disputes (portal.rights): the chair,
    # who must verify them, still reads them; nobody else does.
    verifying_items: frozenset[str] = frozenset()


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
    # What an item read rests on, for the access record: the consents used,
    # the legal ground, or the safety exception's grant.
    consent_ids: tuple[str, ...] = ()
    legal_ground: str | None = None
    break_glass_id: str | None = None


@dataclass(frozen=True)
class Deny:
    reason: str
    hide: bool = False
    allowed: bool = False
    detail: str = ""  # the consent engine's explanation, for the reader's page


Decision = Allow | Deny


@dataclass(frozen=True)
class ChildFacts:
    """How the asking citizen stands to one child, outside any case: the same
    ``family_standing`` the family pages use, from the custody facts the engine
    reads (no consents: those belong to a case)."""

    child_id: str
    standing: Standing = Standing.UNRELATED
    school_id: str | None = None  # the child's school


def _decide_on_child(actor: Actor, action: Action, child: ChildFacts | None) -> Decision:
    if child is None:
        raise ValueError("this action needs the child's facts")
    if action in SCHOOL_CHILD_ACTIONS:
        if child.school_id in actor.organisations_with(action):
            return Allow(basis=f"role:{'+'.join(sorted(actor.roles))};school")
        # Colleagues at the child's school know the child: 403; anyone else 404.
        return Deny(reason="insufficient_role",
                    hide=child.school_id not in actor.organisation_ids)
    standing = child.standing if actor.kind is PersonKind.CITIZEN else Standing.UNRELATED
    if action not in FAMILY_PERMISSIONS[standing]:
        # Without standing the child's existence must not leak (404).
        return Deny(reason=f"family_{standing.value}", hide=standing in HIDDEN_STANDINGS)
    return Allow(basis=f"family:{standing.value}")


def _decide_in_organisation(actor: Actor, action: Action, organisation_id: str) -> Decision:
    if organisation_id in actor.organisations_with(action):
        return Allow(basis=f"role:{'+'.join(sorted(actor.roles))};organisation")
    # A colleague learns the register exists (403); anyone else nothing (404).
    return Deny(reason="insufficient_role", hide=organisation_id not in actor.organisation_ids)


def family_parts(actor: Actor, case: CaseFacts) -> frozenset[FamilyPart]:
    """The parts of a case the family pages may show ``actor`` (items are decided apart)."""
    return frozenset(part for part, action in FAMILY_PARTS.items()
                     if decide(actor, action, case).allowed)


def decide(actor: Actor, action: Action, case: CaseFacts | None = None,
           item: ItemFacts | None = None, *, child: ChildFacts | None = None,
           organisation_id: str | None = None) -> Decision:
    """Allow(basis) or Deny(reason) for ``actor`` doing ``action`` (on ``case``'s ``item``,
    on ``child``, or in the organisation ``organisation_id``)."""
    if action in CHILD_ACTIONS:
        return _decide_on_child(actor, action, child)
    if action is Action.CASE_APPOINT_CHAIR:
        return _appoint_chair(actor, action, case)
    if action in ORGANISATION_ACTIONS and organisation_id is not None:
        return _decide_in_organisation(actor, action, organisation_id)
    if action in CASE_ACTIONS or action in FAMILY_ACTIONS:
        if case is None:
            raise ValueError(f"{action} needs the case's facts")
        if actor.kind is PersonKind.CITIZEN:
            return _decide_for_family(actor, action, case, item)
        if action in FAMILY_ACTIONS:
            known = actor.person_id in case.participants
            return Deny(reason="not_family", hide=not known)
        return _decide_on_case(actor, action, case, item)
    if action in KIND_PERMISSIONS[actor.kind]:
        return Allow(basis=f"kind:{actor.kind.value}")
    if any(action in ROLE_PERMISSIONS.get(role, frozenset()) for role in actor.roles):
        return Allow(basis=f"role:{'+'.join(sorted(actor.roles))}")
    return Deny(reason="insufficient_role")


def _decide_on_case(actor: Actor, action: Action, case: CaseFacts,
                    item: ItemFacts | None) -> Decision:
    case_role = case.participants.get(actor.person_id)
    if case_role is None:
        return Deny(reason="not_a_participant", hide=True)
    # Whoever carries out an action item (or takes a meeting's minutes) may do so,
    # whatever their case role.
    owns_item = action in OWNER_ACTIONS and item is not None \
        and item.owner_id == actor.person_id
    if action not in CASE_ROLE_PERMISSIONS[case_role] and not owns_item:
        return Deny(reason="insufficient_case_role")
    if case.erased and action not in AFTER_ERASURE:
        return Deny(reason="case_erased")
    if action in WRITES_ON_CASE and case.status is CaseStatus.CLOSED:
        return Deny(reason="case_closed")
    if action is Action.ITEM_READ:
        return _read_item(actor, case_role, case, _required(item))
    if action is Action.BREAK_GLASS and (case.anonymous
                                         or case.legal_basis is not LegalBasis.CONSENT):
        return Deny(reason="break_glass_not_needed")
    if action is Action.CASE_CONVERT and not case.anonymous:
        return Deny(reason="not_anonymous")
    if action in (Action.CONSENT_VIEW, Action.CONSENT_RECORD, Action.GROUND_INVOKE,
                  Action.GROUND_TASKS) and case.anonymous:
        return Deny(reason="anonymous_case")  # no child, so nobody to consent
    return Allow(basis=f"participant:{case_role.value};basis:{case.legal_basis.value}")


def _appoint_chair(actor: Actor, action: Action, case: CaseFacts | None) -> Decision:
    """The care coordinator of the case's own organisation; nobody needs to be a participant."""
    if case is None:
        raise ValueError(f"{action} needs the case's facts")
    if case.organisation_id is None or \
            case.organisation_id not in actor.organisations_with(action):
        # Existence must not leak to someone with no tie to the case.
        known = actor.person_id in case.participants \
            or case.organisation_id in actor.organisation_ids
        return Deny(reason="insufficient_role", hide=not known)
    if case.erased:
        return Deny(reason="case_erased")
    if case.status is CaseStatus.CLOSED:
        return Deny(reason="case_closed")
    return Allow(basis="role:care_coordinator;organisation")


def _required(item: ItemFacts | None) -> ItemFacts:
    if item is None:
        raise ValueError("reading an item needs the item's facts")
    return item


def _restricted(case: CaseFacts, item: ItemFacts) -> bool:
    return case.restricted or item.item_id in case.restricted_items


def _read_item(actor: Actor, case_role: CaseRole, case: CaseFacts, item: ItemFacts) -> Decision:
    """A professional reads an item only when the case's basis covers every category."""
    if _restricted(case, item) and not (case_role is CaseRole.CHAIR
                                        and item.item_id in case.verifying_items):
        return Deny(reason="restricted")
    if not item.categories:
        return Deny(reason="item_without_category")
    if case.anonymous:
        # Nothing in an anonymous case identifies the child: no consent is asked.
        return Allow(basis=f"participant:{case_role.value};anonymous_case")
    if case.consent is None:
        return Deny(reason="consent_facts_missing")
    organisation = case.participant_organisations.get(actor.person_id)
    capacity = case.participant_roles.get(actor.person_id)
    # Only the capacity the participant acts in on this case counts; a chosen
    # role they no longer hold counts for nothing (fail closed).
    roles = (role.value for org, role in actor.memberships
             if org == organisation and (capacity is None or role.value == capacity))
    # A legal ground is a scoped disclosure basis (case.consent.grounds), never
    # the whole case's: outside its scope, consent decides.
    outcome = item_access(case.consent, Basis.CONSENT,
                          f"person:{actor.person_id}",
                          recipient_identities(actor.person_id, organisation, roles),
                          item.categories)
    prefix = f"participant:{case_role.value};basis:{case.legal_basis.value}"
    if outcome.allowed:
        return Allow(basis=f"{prefix};{outcome.basis}"[:200], consent_ids=outcome.consent_ids,
                     legal_ground=outcome.legal_ground)
    grant = _active_grant(actor, case)
    if grant is not None:
        # The safety exception: flagged on every access it allows.
        return Allow(basis=f"{prefix};break_glass:{grant.grant_id}",
                     break_glass_id=grant.grant_id)
    return Deny(reason=outcome.reason, detail=outcome.detail)


def _active_grant(actor: Actor, case: CaseFacts) -> BreakGlassFacts | None:
    if case.now is None:
        return None
    return next((g for g in case.break_glass
                 if g.person_id == actor.person_id and case.now < g.expires_at), None)


def _decide_for_family(actor: Actor, action: Action, case: CaseFacts,
                       item: ItemFacts | None) -> Decision:
    """Parents, guardians, foster parents and the pupil, by where they stand."""
    if case.consent is None:
        # Anonymous (or not loaded): no family can be linked to it.
        return Deny(reason="not_related", hide=True)
    standing = family_standing(case.consent, actor.person_id)
    if action not in FAMILY_PERMISSIONS[standing]:
        return Deny(reason=f"family_{standing.value}", hide=standing in HIDDEN_STANDINGS)
    if case.erased and action not in AFTER_ERASURE:
        return Deny(reason="case_erased")
    if action in WRITES_ON_CASE and case.status is CaseStatus.CLOSED:
        return Deny(reason="case_closed")
    if action is Action.ITEM_READ:
        item = _required(item)
        if _restricted(case, item):
            return Deny(reason="restricted")
        if not item.shared_with_parents:
            return Deny(reason="not_shared_with_parents")
        if standing is Standing.INFORMED:
            # Only what the consenters agreed to share with this very person.
            recipient = f"adult:{actor.person_id}"
            outcome = item_access(case.consent, Basis.CONSENT, recipient, frozenset(),
                                  item.categories, project=False)
            if not outcome.allowed:
                return Deny(reason=outcome.reason, detail=outcome.detail)
            return Allow(basis=f"family:{standing.value};{outcome.basis}"[:200],
                         consent_ids=outcome.consent_ids)
    return Allow(basis=f"family:{standing.value}")
