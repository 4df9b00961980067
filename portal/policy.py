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


class Action(enum.StrEnum):
    CASE_LIST = "case.list"
    CASE_CREATE = "case.create"
    CASE_VIEW = "case.view"
    CASE_MANAGE_PARTICIPANTS = "case.participants"
    CASE_CLOSE = "case.close"
    # Whole-case erasure (crypto-shredding of everything the case holds).
    CASE_ERASE = "case.erase"
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
    # Structured minutes of a meeting (portal/minutes): the minute-taker writes,
    # the chair approves, participants propose corrections to approved facts.
    MINUTES_WRITE = "minutes.write"
    MINUTES_APPROVE = "minutes.approve"
    MINUTES_CORRECT = "minutes.correct"
    # Consent (the consent issue): professionals see a case's consent status
    # and the chair records signed forms; the family gives and withdraws.
    CONSENT_VIEW = "consent.view"
    CONSENT_RECORD = "consent.record"
    CONSENT_GIVE = "consent.give"
    CONSENT_WITHDRAW = "consent.withdraw"
    FAMILY_LIST = "family.list"
    FAMILY_VIEW = "family.view"
    FAMILY_GENERAL = "family.general"
    BREAK_GLASS = "case.break_glass"
    # A legal ground other than consent: invoked, changed or ended with a written
    # reason (portal/consent/grounds.py; the organisation's roles decide who may).
    GROUND_INVOKE = "case.ground"
    # The duties a ground leaves ("inform the parents"): the chair tracks them.
    GROUND_TASKS = "case.ground_tasks"
    CASE_CONVERT = "case.convert"
    DPO_REVIEW = "dpo.review"
    # The access log (the audit issue): the DPO searches it, professionals see
    # their own accesses, parents and 16+ pupils who looked at the child's data.
    AUDIT_SEARCH = "audit.search"
    AUDIT_OWN = "audit.own"
    AUDIT_FAMILY_LIST = "audit.family"
    AUDIT_CHILD = "audit.child"
    # The custody facts of a child's adults, recorded by the child's school.
    CUSTODY_RECORD = "custody.record"
    # Family onboarding (portal/invitations): the school's care coordinator
    # sees its invitations and invites, resends, revokes and unbinds per child.
    INVITATION_LIST = "invitation.list"
    INVITATION_MANAGE = "invitation.manage"
    # The staff lifecycle: the care coordinator of a case's organisation appoints
    # its chair (when the chair left); a participant with several memberships
    # chooses the capacity (organisation and role) they act in on the case.
    CASE_APPOINT_CHAIR = "case.appoint_chair"
    CASE_CHOOSE_CAPACITY = "case.capacity"
    # An organisation's pupil and family register (portal/register): who is
    # enrolled, their adults, and the import from the school's administration.
    REGISTER_VIEW = "register.view"
    REGISTER_EDIT = "register.edit"
    # The data-breach register (portal/breaches): any professional reports a
    # (possible) breach; the FG keeps the register (DPO_REVIEW, scoped per organisation).
    BREACH_REPORT = "breach.report"
    # A data subject's request (portal/requests): a parent with custody, a
    # guardian or the pupil from 16 files one about the child; the FG handles
    # it under DPO_REVIEW, within the scope of portal/dpo/scope.py.
    REQUEST_FILE = "request.file"


# What an organisational role lets a professional do outside any case.
ROLE_PERMISSIONS: Mapping[Role, frozenset[Action]] = {
    Role.MENTOR: frozenset({Action.CASE_LIST, Action.CASE_CREATE, Action.CHILD_LIST}),
    Role.CARE_COORDINATOR: frozenset({Action.CASE_LIST, Action.CASE_CREATE, Action.CHILD_LIST,
                                      Action.CUSTODY_RECORD, Action.INVITATION_LIST,
                                      Action.INVITATION_MANAGE, Action.CASE_APPOINT_CHAIR,
                                      Action.REGISTER_VIEW, Action.REGISTER_EDIT}),
    Role.SCHOOL_LEADER: frozenset({Action.CASE_LIST, Action.CASE_CREATE, Action.CHILD_LIST}),
    Role.YOUTH_CARE_WORKER: frozenset({Action.CASE_LIST, Action.CASE_CREATE}),
    Role.SCHOOL_SOCIAL_WORKER: frozenset({Action.CASE_LIST, Action.CASE_CREATE,
                                          Action.CHILD_LIST}),
    Role.YOUTH_PROTECTOR: frozenset({Action.CASE_LIST}),
    Role.MINUTE_TAKER: frozenset({Action.CASE_LIST}),
    # The DPO sees logs and breaches, the administrator people and
    # organisations; neither reads case content.
    Role.DPO: frozenset({Action.DPO_REVIEW, Action.AUDIT_SEARCH}),
    # An administrator keeps the register of the organisation they administer
    # (decided per organisation: the portal's own administrators have none).
    Role.ADMIN: frozenset({Action.ORGANISATION_MANAGE, Action.REGISTER_VIEW,
                           Action.REGISTER_EDIT}),
}

# What a role within one case allows on that case.
CASE_ROLE_PERMISSIONS: Mapping[CaseRole, frozenset[Action]] = {
    CaseRole.CHAIR: frozenset({Action.CASE_VIEW, Action.CASE_MANAGE_PARTICIPANTS,
                               Action.CASE_CLOSE, Action.MEETING_VIEW, Action.MEETING_SCHEDULE,
                               Action.ACTION_ITEM_MANAGE, Action.ACTION_ITEM_UPDATE,
                               Action.ITEM_READ, Action.ITEM_WRITE, Action.ITEM_ERASE,
                               Action.CASE_ERASE, Action.CONSENT_VIEW, Action.CONSENT_RECORD,
                               Action.BREAK_GLASS, Action.CASE_CONVERT,
                               Action.MINUTES_APPROVE, Action.MINUTES_CORRECT,
                               Action.CASE_CHOOSE_CAPACITY, Action.GROUND_INVOKE,
                               Action.GROUND_TASKS}),
    CaseRole.PARTICIPANT: frozenset({Action.CASE_VIEW, Action.MEETING_VIEW,
                                     Action.ITEM_READ, Action.ITEM_WRITE,
                                     Action.CONSENT_VIEW, Action.BREAK_GLASS,
                                     Action.MINUTES_CORRECT, Action.CASE_CHOOSE_CAPACITY,
                                     Action.GROUND_INVOKE}),
    CaseRole.MINUTE_TAKER: frozenset({Action.CASE_VIEW, Action.MEETING_VIEW,
                                      Action.ITEM_READ, Action.ITEM_WRITE,
                                      Action.CONSENT_VIEW, Action.MINUTES_WRITE,
                                      Action.MINUTES_CORRECT, Action.CASE_CHOOSE_CAPACITY}),
    CaseRole.OBSERVER: frozenset({Action.CASE_VIEW, Action.MEETING_VIEW, Action.ITEM_READ,
                                  Action.CONSENT_VIEW, Action.CASE_CHOOSE_CAPACITY}),
}

# What a citizen may do outside any case.
KIND_PERMISSIONS: Mapping[PersonKind, frozenset[Action]] = {
    PersonKind.CITIZEN: frozenset({Action.FAMILY_LIST, Action.AUDIT_FAMILY_LIST}),
    PersonKind.PROFESSIONAL: frozenset({Action.AUDIT_OWN, Action.BREACH_REPORT}),
}

CHILD_ACTIONS = frozenset({Action.AUDIT_CHILD, Action.CUSTODY_RECORD,
                           Action.INVITATION_MANAGE, Action.REQUEST_FILE})
# What a professional does on one organisation's own records, only there.
ORGANISATION_ACTIONS = frozenset({Action.REGISTER_VIEW, Action.REGISTER_EDIT})
# What a professional does about a child, only for a child of their own school.
SCHOOL_CHILD_ACTIONS = frozenset({Action.CUSTODY_RECORD, Action.INVITATION_MANAGE})

# What a parent, guardian, foster parent or pupil may do on a case about the
# child, by where they stand (portal.consent.access.family_standing). Reading an
# item also needs the chair to have shared it with parents.
#
# The case's title and purpose (FAMILY_VIEW) are case content: they can tell
# what the child's problems are, and no consent names them, so only those who
# decide about the case see them: the adults with custody of a child under 16,
# the pupil from 16. A foster parent or a parent of a 16+ pupil whom the
# consenters let in (INFORMED) reads exactly the shared items the consents name
# for them, item by item, and otherwise what general information shows: that
# there is a case, its status and the organisations taking part (FAMILY_GENERAL).
# Who looked at the child's data (AUDIT_CHILD) is for the same two standings.
FULL_FAMILY = frozenset({Action.FAMILY_VIEW, Action.FAMILY_GENERAL, Action.CONSENT_GIVE,
                         Action.CONSENT_WITHDRAW, Action.ITEM_READ, Action.AUDIT_CHILD,
                         Action.REQUEST_FILE})
FAMILY_PERMISSIONS: Mapping[Standing, frozenset[Action]] = {
    Standing.PUPIL: FULL_FAMILY,
    Standing.CUSTODIAN: FULL_FAMILY,
    Standing.INFORMED: frozenset({Action.FAMILY_GENERAL, Action.ITEM_READ}),
    Standing.GENERAL: frozenset({Action.FAMILY_GENERAL}),
    Standing.NO_RIGHT: frozenset(),
    Standing.UNRELATED: frozenset(),
}


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
# A standing that must not even learn that the case exists.
HIDDEN_STANDINGS = frozenset({Standing.NO_RIGHT, Standing.UNRELATED})
FAMILY_ACTIONS = frozenset({Action.FAMILY_VIEW, Action.FAMILY_GENERAL, Action.CONSENT_GIVE,
                            Action.CONSENT_WITHDRAW})

CASE_ACTIONS = frozenset({Action.CASE_VIEW, Action.CASE_MANAGE_PARTICIPANTS, Action.CASE_CLOSE,
                          Action.CASE_ERASE,
                          Action.MEETING_VIEW, Action.MEETING_SCHEDULE,
                          Action.ACTION_ITEM_MANAGE, Action.ACTION_ITEM_UPDATE,
                          Action.ITEM_READ, Action.ITEM_WRITE, Action.ITEM_ERASE,
                          Action.CONSENT_VIEW, Action.CONSENT_RECORD, Action.BREAK_GLASS,
                          Action.GROUND_INVOKE, Action.GROUND_TASKS,
                          Action.CASE_CONVERT, Action.MINUTES_WRITE, Action.MINUTES_APPROVE,
                          Action.MINUTES_CORRECT, Action.CASE_CHOOSE_CAPACITY})
# What the person an item names as its owner may do whatever their case role:
# report on their action item; write the minutes of the meeting they take them for.
OWNER_ACTIONS = frozenset({Action.ACTION_ITEM_UPDATE, Action.MINUTES_WRITE})
# Erasing content stays possible on a closed case: the right to erasure
# outlives the consultation.
WRITES_ON_CASE = frozenset({Action.CASE_MANAGE_PARTICIPANTS, Action.CASE_CLOSE,
                            Action.MEETING_SCHEDULE, Action.ACTION_ITEM_MANAGE,
                            Action.ACTION_ITEM_UPDATE, Action.ITEM_WRITE,
                            Action.BREAK_GLASS, Action.CASE_CONVERT, Action.CONSENT_GIVE,
                            Action.MINUTES_WRITE, Action.MINUTES_APPROVE,
                            Action.MINUTES_CORRECT, Action.CASE_CHOOSE_CAPACITY,
                            Action.CASE_APPOINT_CHAIR, Action.GROUND_INVOKE})
# Withdrawing consent (and recording a withdrawal) stays possible on a closed case.
# What is left of an erased case: that it exists, and its erasure. Everything
# else is refused before anything is decrypted (the keys are gone anyway).
AFTER_ERASURE = frozenset({Action.CASE_VIEW, Action.FAMILY_GENERAL})


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
