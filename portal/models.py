"""Every table, imported in one place for Alembic and the tests."""

from portal.audit.models import AccessRecord
from portal.cases.models import Case, CaseParticipant
from portal.db import Base
from portal.mail.models import OutboxMessage
from portal.people.models import Child, ChildRelation, Membership, Organisation, Person
from portal.vault.models import DataKey
from portal.web.session_store import WebSession

__all__ = [
           "AccessRecord",
           "Base",
           "Case",
           "CaseParticipant",
           "Child",
           "ChildRelation",
           "DataKey",
           "Membership",
           "Organisation",
           "OutboxMessage",
           "Person",
           "WebSession",
]
