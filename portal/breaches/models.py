"""The data-breach register (issue 13): one row per breach in one organisation's register.

A breach reported in the portal is an entry in the register of the reporter's
organisation. When its scope, computed from the access log, reaches cases that
partner organisations take part in, each partner gets an entry of its own
(``origin_id`` names the reported one): the same discovery time and so the
same 72-hour clock, its own assessment and decisions, and none of the
reporter's text. Free text (what happened, how it was found, the assessment,
the reasons of each decision) is sealed with the breach's own data key.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id


class ApDecision(enum.StrEnum):
    """Whether the breach is notified to the Autoriteit Persoonsgegevens (GDPR art. 33)."""

    NOTIFY = "notify"
    NO_NOTIFY = "no_notify"


class FamilyDecision(enum.StrEnum):
    """Whether the families (the data subjects) are informed (GDPR art. 34)."""

    INFORM = "inform"
    NO_INFORM = "no_inform"


class ScopeKind(enum.StrEnum):
    READS = "reads"  # everything one person read in a period
    EXPORTS = "exports"  # every document or minutes export in a period


class Breach(Base):
    __tablename__ = "breach"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    origin_id: Mapped[str | None] = mapped_column(ForeignKey("breach.id"), index=True)
    reported_by: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    discovered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    what_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    how_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    assessment_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    assessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assessed_by: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    ap_decision: Mapped[str | None] = mapped_column(String(16))
    ap_reasons_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    ap_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ap_decided_by: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    family_decision: Mapped[str | None] = mapped_column(String(16))
    family_reasons_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    family_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    family_decided_by: Mapped[str | None] = mapped_column(ForeignKey("person.id"))


class BreachScope(Base):
    """One scope the FG defined, and the counts the access log gave for it."""

    __tablename__ = "breach_scope"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    breach_id: Mapped[str] = mapped_column(ForeignKey("breach.id", ondelete="CASCADE"),
                                           index=True)
    kind: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    defined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    defined_by: Mapped[str] = mapped_column(ForeignKey("person.id"))
    records: Mapped[int] = mapped_column(Integer)
    children: Mapped[int] = mapped_column(Integer)
    cases: Mapped[int] = mapped_column(Integer)
    organisations: Mapped[int] = mapped_column(Integer)


class BreachCase(Base):
    """A case a breach reached (ids only: what the counts are made of)."""

    __tablename__ = "breach_case"

    breach_id: Mapped[str] = mapped_column(ForeignKey("breach.id", ondelete="CASCADE"),
                                           primary_key=True)
    case_id: Mapped[str] = mapped_column(IdColumn(), primary_key=True)
    child_id: Mapped[str | None] = mapped_column(IdColumn())
