"""The actions the policy decides, and which role or standing allows which.

This is the data ``portal.policy.decide`` reads: organisational roles, case
roles, kinds of person and family standings map to actions here, as tables,
not as if-chains. It is kept apart from the decisions so the tables read as
one place, and imports nothing from ``portal.policy``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from portal.cases.models import CaseRole
from portal.consent.access import Standing
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
