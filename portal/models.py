"""Every table, imported in one place for Alembic and the tests."""

from portal.admin.models import GroundRoleChange
from portal.audit.models import AccessRecord
from portal.breaches.models import Breach, BreachCase, BreachScope
from portal.cases.models import Case, CaseParticipant
from portal.consent.models import (
    BreakGlassGrant,
    CaseConversion,
    ConsentRecord,
    CustodyRecord,
    IdentifierOverride,
    OrganisationConsentRule,
    Restriction,
)
from portal.db import Base
from portal.documents.models import (
    BlobGarbage,
    CaseDocument,
    DocumentErasure,
    DocumentSegment,
    DocumentVersion,
)
from portal.dpo.models import ProcessingRegisterVersion, SupervisionGrant
from portal.invitations.models import FamilyInvitation, InvitationFailure
from portal.jobs.models import JobLease
from portal.login.models import OidcAccount
from portal.mail.models import OutboxMessage
from portal.meetings.models import ActionItem, Meeting, MeetingInvitee
from portal.minutes.models import (
    Minutes,
    MinutesCorrection,
    MinutesDraft,
    MinutesSection,
    MinutesVersion,
)
from portal.notifications.models import Notification, NotificationSetting
from portal.ops.models import AdministratorBinding
from portal.people.models import Child, ChildRelation, Membership, Organisation, Person
from portal.requests.models import SubjectRequest, SubjectRequestEvent
from portal.retention.models import LegalHold, RetentionErasure, RetentionPolicy
from portal.rights.models import FamilyStatement, Objection, RestrictionNote
from portal.scim.models import ScimGroup, ScimGroupMember, ScimToken, ScimUser
from portal.search.models import SearchQuery, SearchToken
from portal.staff.models import ChairVacancy
from portal.vault.models import DataKey
from portal.web.session_store import WebSession

__all__ = [
    "AccessRecord",
    "ActionItem",
    "AdministratorBinding",
    "Base",
    "BlobGarbage",
    "Breach",
    "BreachCase",
    "BreachScope",
    "BreakGlassGrant",
    "Case",
    "CaseConversion",
    "CaseDocument",
    "CaseParticipant",
    "ChairVacancy",
    "Child",
    "ChildRelation",
    "ConsentRecord",
    "CustodyRecord",
    "DataKey",
    "DocumentErasure",
    "DocumentSegment",
    "DocumentVersion",
    "FamilyInvitation",
    "FamilyStatement",
    "GroundRoleChange",
    "IdentifierOverride",
    "InvitationFailure",
    "JobLease",
    "LegalHold",
    "Meeting",
    "MeetingInvitee",
    "Membership",
    "Minutes",
    "MinutesCorrection",
    "MinutesDraft",
    "MinutesSection",
    "MinutesVersion",
    "Notification",
    "NotificationSetting",
    "Objection",
    "OidcAccount",
    "Organisation",
    "OrganisationConsentRule",
    "OutboxMessage",
    "Person",
    "ProcessingRegisterVersion",
    "Restriction",
    "RestrictionNote",
    "RetentionErasure",
    "RetentionPolicy",
    "ScimGroup",
    "ScimGroupMember",
    "ScimToken",
    "ScimUser",
    "SearchQuery",
    "SearchToken",
    "SubjectRequest",
    "SubjectRequestEvent",
    "SupervisionGrant",
    "WebSession",
]
