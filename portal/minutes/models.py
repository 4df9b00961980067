"""Structured minutes of a meeting: versions of sections, drafts, corrections.

Only ids, version numbers, status, data categories, flags and dates are in the
clear; every heading, body, draft and correction text is record-encrypted.
A version's new or changed sections are sealed under that version's data key;
a section carried over unchanged keeps its ciphertext and the key (and
version number) it was sealed under, so nothing is decrypted to copy it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id, str_enum


class MinutesStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"  # frozen: nothing ever changes an approved version


class SectionKind(enum.StrEnum):
    DISCUSSION = "discussion"
    AGREEMENTS = "agreements"
    OUTCOME = "outcome"  # who records what, where


class SectionNature(enum.StrEnum):
    # Rectification applies to facts only, never to a professional opinion.
    FACT = "fact"
    OPINION = "opinion"


class CorrectionStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Minutes(Base):
    """The minutes of one meeting; its content lives in its versions."""

    __tablename__ = "minutes"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id"), index=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meeting.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(ForeignKey("person.id"))


class MinutesVersion(Base):
    __tablename__ = "minutes_version"
    __table_args__ = (UniqueConstraint("minutes_id", "version"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    minutes_id: Mapped[str] = mapped_column(ForeignKey("minutes.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[MinutesStatus] = mapped_column(str_enum(MinutesStatus, "minutes_status"))
    data_key_id: Mapped[str] = mapped_column(ForeignKey("data_key.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(ForeignKey("person.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    # The accepted correction this version carries out, if any.
    correction_id: Mapped[str | None] = mapped_column(IdColumn())


class MinutesSection(Base):
    __tablename__ = "minutes_section"
    __table_args__ = (UniqueConstraint("version_id", "position"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    version_id: Mapped[str] = mapped_column(
        ForeignKey("minutes_version.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    # The section's identity across versions (what diffs and corrections name).
    section_key: Mapped[str] = mapped_column(IdColumn(), index=True)
    kind: Mapped[SectionKind] = mapped_column(str_enum(SectionKind, "minutes_section_kind"))
    nature: Mapped[SectionNature] = mapped_column(
        str_enum(SectionNature, "minutes_section_nature"))
    shared_with_parents: Mapped[bool] = mapped_column(Boolean, default=False)
    # Comma-separated CATEGORIES, sorted: the policy decides without decrypting.
    categories: Mapped[str] = mapped_column(String(200))
    heading_ct: Mapped[bytes] = mapped_column(LargeBinary)
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)
    # The version whose data key sealed the text (the binding names it).
    sealed_version: Mapped[int] = mapped_column(Integer)
    data_key_id: Mapped[str] = mapped_column(ForeignKey("data_key.id"), index=True)
    # 1 = location-only associated data (before 0018); 2 = also categories and sharing.
    binding: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class MinutesDraft(Base):
    """The editor's autosaved form, one per (minutes, author), under a key of its own."""

    __tablename__ = "minutes_draft"
    __table_args__ = (UniqueConstraint("minutes_id", "author_id"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    minutes_id: Mapped[str] = mapped_column(ForeignKey("minutes.id"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("person.id"))
    data_key_id: Mapped[str] = mapped_column(ForeignKey("data_key.id"))
    content_ct: Mapped[bytes] = mapped_column(LargeBinary)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Per non-empty draft section: [section key or "", "cat1,cat2"], in the clear so
    # the policy decides on each before the draft is decrypted (None: saved before
    # these facts were kept; such a draft is never opened).
    sections: Mapped[list[list[str]] | None] = mapped_column(JSON, default=None)
    # 2: the sections' categories and ``counter`` are bound to the ciphertext.
    binding: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Moves with every save and is bound to the ciphertext; see ``save_draft``.
    counter: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class MinutesCorrection(Base):
    """A proposed rectification of a fact section of an approved version."""

    __tablename__ = "minutes_correction"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    minutes_id: Mapped[str] = mapped_column(ForeignKey("minutes.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    section_key: Mapped[str] = mapped_column(IdColumn())
    categories: Mapped[str] = mapped_column(String(200))
    status: Mapped[CorrectionStatus] = mapped_column(
        str_enum(CorrectionStatus, "minutes_correction_status"))
    data_key_id: Mapped[str] = mapped_column(ForeignKey("data_key.id"))
    text_ct: Mapped[bytes] = mapped_column(LargeBinary)
    reason_ct: Mapped[bytes] = mapped_column(LargeBinary)
    proposed_by: Mapped[str] = mapped_column(ForeignKey("person.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_ct: Mapped[bytes | None] = mapped_column(LargeBinary)  # the rejection's reason
    result_version: Mapped[int | None] = mapped_column(Integer)
    # 2: the categories are bound to the ciphertext (``corrections._binding``).
    binding: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
