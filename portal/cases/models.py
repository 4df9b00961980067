"""MDO cases and who takes part in them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.consent.rules import Basis
from portal.db import Base, IdColumn, UTCDateTime, new_id, str_enum


class LegalBasis(enum.StrEnum):
    """The grondslag of a case (DOMAIN.md); almost always consent.

    Derived from the consent engine's ``Basis`` (the one source, pure, in
    ``portal.consent.rules``): the same names and stored values, less
    ``safety_exception``, which is never a case's ground but one person's
    time-limited grant (break-glass). A test keeps the two in step.
    """

    CONSENT = Basis.CONSENT.value
    MELDRECHT_VEILIG_THUIS = Basis.MELDRECHT_VEILIG_THUIS.value
    VERWIJSINDEX = Basis.VERWIJSINDEX.value
    RAAD_KINDERBESCHERMING = Basis.RAAD_KINDERBESCHERMING.value
    TLV_OR_EXTRA_SUPPORT = Basis.TLV_OR_EXTRA_SUPPORT.value
    OTS = Basis.OTS.value
    LEGAL_OBLIGATION = Basis.LEGAL_OBLIGATION.value
    VITAL_INTEREST = Basis.VITAL_INTEREST.value

    @property
    def basis(self) -> Basis:
        """The same ground as the engine names it."""
        return Basis(self.value)


# The engine's grounds that a case cannot rest on.
NOT_A_CASE_GROUND = frozenset({Basis.SAFETY_EXCEPTION})


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CaseRole(enum.StrEnum):
    CHAIR = "chair"
    PARTICIPANT = "participant"
    MINUTE_TAKER = "minute_taker"
    OBSERVER = "observer"


class Case(Base):
    """An MDO case. Title and purpose can identify a child: encrypted."""

    __tablename__ = "mdo_case"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    child_id: Mapped[str | None] = mapped_column(ForeignKey("child.id"), index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    title_ct: Mapped[bytes] = mapped_column(LargeBinary)
    purpose_ct: Mapped[bytes] = mapped_column(LargeBinary)
    legal_basis: Mapped[LegalBasis] = mapped_column(str_enum(LegalBasis, "legal_basis"))
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, "case_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(ForeignKey("person.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Whole-case erasure (crypto-shredding): when, by whom (person, roles,
    # organisation, as the access record names them) and what went. Once set,
    # title_ct and purpose_ct are empty and their data key is destroyed.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    erased_by: Mapped[str | None] = mapped_column(IdColumn())
    erased_by_role: Mapped[str | None] = mapped_column(String(200))
    erased_by_organisation_id: Mapped[str | None] = mapped_column(IdColumn())
    erased_summary: Mapped[str | None] = mapped_column(String(200))
    # When the case last became youth care (None: school setting, or youth care since
    # before this was kept; then the earliest youth-care participant's arrival stands).
    youth_care_since: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CaseParticipant(Base):
    __tablename__ = "case_participant"
    __table_args__ = (UniqueConstraint("case_id", "person_id"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id", ondelete="CASCADE"),
                                         index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"))
    # The capacity they act in: their role in ``organisation_id`` (a
    # portal.people.models.Role value), chosen when a person has several.
    capacity_role: Mapped[str | None] = mapped_column(String(32))
    case_role: Mapped[CaseRole] = mapped_column(str_enum(CaseRole, "case_role"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    added_by: Mapped[str] = mapped_column(ForeignKey("person.id"))
