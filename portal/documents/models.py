"""Case documents: minutes and attachments, every version under its own data key.

Only what lists need stays in the clear: ids, kind, data categories, dates,
status and sizes. Titles, minutes text and file names are record-encrypted
(``crypto.encrypt_record``); file contents are Tink streaming ciphertext cut
into one ``document_segment`` row per 64 KiB segment, so one database backup
holds everything.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id, str_enum

# The consent engine's data categories (portal/consent/rules.py), in display order.
CATEGORIES: tuple[str, ...] = ("school_progress", "behaviour", "social_emotional", "health",
                               "family_situation", "other")


class DocumentKind(enum.StrEnum):
    MINUTES = "minutes"
    ATTACHMENT = "attachment"


class VersionStatus(enum.StrEnum):
    # An upload's version is committed as pending before its segments stream
    # in, and marked complete only at the end; readers look at complete
    # versions only, so a partial file is never shown.
    PENDING = "pending"
    COMPLETE = "complete"


class CaseDocument(Base):
    """One item of case content; its versions hold the (encrypted) content."""

    __tablename__ = "case_document"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind, "document_kind"))
    # Comma-separated CATEGORIES, sorted: the policy decides on them without decrypting.
    categories: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(ForeignKey("person.id"))


class DocumentVersion(Base):
    """One version of a document: text or a file, under a data key of its own."""

    __tablename__ = "document_version"
    __table_args__ = (UniqueConstraint("document_id", "version"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    document_id: Mapped[str] = mapped_column(ForeignKey("case_document.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    data_key_id: Mapped[str] = mapped_column(ForeignKey("data_key.id"), index=True)
    status: Mapped[VersionStatus] = mapped_column(str_enum(VersionStatus, "version_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(ForeignKey("person.id"))
    title_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    text_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    filename_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Plaintext bytes (text or file); the segment layout of a file.
    size: Mapped[int] = mapped_column(Integer, default=0)
    segment_size: Mapped[int | None] = mapped_column(Integer)
    segment_count: Mapped[int] = mapped_column(Integer, default=0)
    # An upload's heartbeat while its segments stream in (pending versions
    # only): the sweep leaves versions with a recent one alone.
    touched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Which associated data sealed the content (``portal.vault.binding``): 1 =
    # location only (before migration 0018), 2 = also the access-deciding columns.
    binding: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Where the file's ciphertext is (migration 0036): a store of
    # ``portal.documents.blobs`` ("dir", "s3") and the object's random name;
    # NULL: as ``document_segment`` rows (files stored before, until migrated).
    blob_store: Mapped[str | None] = mapped_column(String(16))
    blob_name: Mapped[str | None] = mapped_column(String(64))


class DocumentSegment(Base):
    """One segment of a file's ciphertext; row 0 starts with the 40-byte stream header."""

    __tablename__ = "document_segment"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("document_version.id", ondelete="CASCADE"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class DocumentErasure(Base):
    """What was erased, when and by whom; never anything of the content."""

    __tablename__ = "document_erasure"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("mdo_case.id"), index=True)
    document_id: Mapped[str] = mapped_column(IdColumn())
    kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind, "document_kind"))
    categories: Mapped[str] = mapped_column(String(200))
    versions: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())
    erased_by: Mapped[str] = mapped_column(ForeignKey("person.id"))


class BlobGarbage(Base):
    """An object to delete from a blob store: of an erased, discarded or migrated version.

    Queued in the transaction that destroys the data key (or takes back the
    version), deleted by a background job after that commit; a failed delete
    stays queued and is retried (the key is gone anyway). ``not_before`` keeps
    the job away from an object that a migration is still writing."""

    __tablename__ = "blob_garbage"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    store: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    not_before: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
