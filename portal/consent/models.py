"""Consent records, custody facts, restrictions, break-glass grants, anonymous-case records.

A consent is never edited: it is given (in the portal by the person logged in,
or as a signed form recorded by the chair), and it may be withdrawn, which is
recorded on the same row and counts from the very next request. What was
lawfully read before stays on record with the consent ids as its basis.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.consent.rules import (
    Basis,
    CustodyEvidence,
    Duty,
    OrganisationRule,
    Relationship,
)
from portal.db import Base, IdColumn, UTCDateTime, new_id, str_enum


class ConsentMethod(enum.StrEnum):
    """How a consent (or its withdrawal) is demonstrable."""

    PORTAL = "portal"  # by the consenter, logged in with the required assurance
    SIGNED_FORM = "signed_form"  # a signed form, seen and recorded by a professional


class ConsenterKind(enum.StrEnum):
    ADULT = "adult"
    CHILD = "child"


class ConsentRecord(Base):
    """One consent for one case (its purpose): who, what, to whom, how long."""

    __tablename__ = "consent"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                         index=True)
    child_id: Mapped[str] = mapped_column(ForeignKey("child.id"), index=True)
    consenter_kind: Mapped[ConsenterKind] = mapped_column(
        str_enum(ConsenterKind, "consenter_kind"))
    # The adult; for the child, their account when they gave it in the portal.
    consenter_person_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    method: Mapped[ConsentMethod] = mapped_column(str_enum(ConsentMethod, "consent_method"))
    categories: Mapped[list[str]] = mapped_column(JSON)
    recipients: Mapped[list[str]] = mapped_column(JSON)  # org:<id>, role:<role>, adult:<id>
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(ForeignKey("person.id"))
    acr: Mapped[str | None] = mapped_column(String(200))  # the login's assurance (portal)
    # The signed form as an encrypted attachment (the documents' store), when uploaded.
    form_attachment_id: Mapped[str | None] = mapped_column(IdColumn())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    withdrawal_method: Mapped[ConsentMethod | None] = mapped_column(
        str_enum(ConsentMethod, "withdrawal_method"))


class CustodyRecord(Base):
    """The custody facts of a parent (DOMAIN.md), with what was seen as evidence.

    The latest record per child relation counts; older ones stay as history.
    """

    __tablename__ = "custody_record"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    child_relation_id: Mapped[str] = mapped_column(
        ForeignKey("child_relation.id", ondelete="CASCADE"), index=True)
    relationship: Mapped[Relationship] = mapped_column(
        str_enum(Relationship, "custody_relationship"))
    is_mother: Mapped[bool | None] = mapped_column(Boolean)
    custody_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    court_custody: Mapped[bool | None] = mapped_column(Boolean)
    evidence: Mapped[CustodyEvidence | None] = mapped_column(
        str_enum(CustodyEvidence, "custody_evidence"))
    # The parent says they alone have custody: the form then requires the evidence seen.
    sole_custody_claimed: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by: Mapped[str] = mapped_column(ForeignKey("person.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OrganisationConsentRule(Base):
    """An organisation's consent options (absent: every custodian, 60 days' warning)."""

    __tablename__ = "organisation_consent_rule"

    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"),
                                                 primary_key=True)
    rule: Mapped[OrganisationRule] = mapped_column(str_enum(OrganisationRule,
                                                            "organisation_rule"))
    warning_days: Mapped[int] = mapped_column(Integer)


class Restriction(Base):
    """A case, or one item of it, under restriction: nobody reads it meanwhile."""

    __tablename__ = "restriction"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                         index=True)
    item_id: Mapped[str | None] = mapped_column(IdColumn())  # None: the whole case
    placed_by: Mapped[str] = mapped_column(ForeignKey("person.id"))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lifted_by: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BreakGlassGrant(Base):
    """The safety exception: a written reason, a time limit, and the DPO's review.

    The reason can identify the child: encrypted with the case's data key. A
    grant not yet reviewed is an entry on the DPO's dashboard.
    """

    __tablename__ = "break_glass_grant"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                         index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    reason_ct: Mapped[bytes] = mapped_column(LargeBinary)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    dpo_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    reviewed_by: Mapped[str | None] = mapped_column(ForeignKey("person.id"))


class IdentifierOverride(Base):
    """A writer confirmed that what the identifier check found in an anonymous case
    does not identify the child. Holds the kinds found, never the text."""

    __tablename__ = "identifier_override"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                         index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"))
    field: Mapped[str] = mapped_column(String(64))
    kinds: Mapped[list[str]] = mapped_column(JSON)
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseConversion(Base):
    """An anonymous case became a named case (same case, history kept)."""

    __tablename__ = "case_conversion"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                         index=True)
    child_id: Mapped[str] = mapped_column(ForeignKey("child.id"))
    converted_by: Mapped[str] = mapped_column(ForeignKey("person.id"))
    converted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    consent_ids: Mapped[list[str]] = mapped_column(JSON)


class GroundEventKind(enum.StrEnum):
    INVOKED = "invoked"
    CHANGED = "changed"
    ENDED = "ended"
    REVIEWED = "reviewed"
    MIGRATED = "migrated"  # an unscoped ground of an older case, given a scope


class CaseGround(Base):
    """A legal ground other than consent, as a scoped disclosure basis (see engine.py).

    Within its scope (recipients, categories, from/until) nobody's consent is
    needed; outside it consent decides. The written justification can identify
    the child: encrypted with the case's data key. A ground that needs a review
    (vital interest, the safety exception, a migrated ground) is an entry in the
    DPO's queue until reviewed.
    """

    __tablename__ = "case_ground"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                         index=True)
    basis: Mapped[Basis] = mapped_column(str_enum(Basis, "ground_basis"))
    recipients: Mapped[list[str]] = mapped_column(JSON)  # org:<id>, role:<role>, person:, adult:
    categories: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    # None only for a ground migrated from an older case (nothing was written then).
    justification_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    invoked_by: Mapped[str] = mapped_column(ForeignKey("person.id"))
    invoked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    reviewed_by: Mapped[str | None] = mapped_column(ForeignKey("person.id"))


class GroundEvent(Base):
    """Every invocation, change, end and review of a ground: the case timeline's record."""

    __tablename__ = "case_ground_event"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    ground_id: Mapped[str] = mapped_column(ForeignKey("case_ground.id", ondelete="CASCADE"),
                                           index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                         index=True)
    kind: Mapped[GroundEventKind] = mapped_column(str_enum(GroundEventKind, "ground_event"))
    person_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)  # the written reason


class GroundTask(Base):
    """A duty that remains under a ground ("inform the parents", "try to obtain consent")."""

    __tablename__ = "ground_task"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    ground_id: Mapped[str] = mapped_column(ForeignKey("case_ground.id", ondelete="CASCADE"),
                                           index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                         index=True)
    duty: Mapped[Duty] = mapped_column(str_enum(Duty, "ground_duty"))
    owner_id: Mapped[str] = mapped_column(ForeignKey("person.id"))
    due_on: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)


class OrganisationGroundRole(Base):
    """The roles of an organisation that may invoke a legal ground (none listed: defaults)."""

    __tablename__ = "organisation_ground_role"

    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"),
                                                 primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
