"""The access log: one append-only row per access, the chain head, and signed checkpoints.

Field names follow NEN 7513 / FHIR AuditEvent so an auditor recognises them.
The record holds the fact of access, never the content. ``encoding`` is the
canonical encoding (``portal.audit.chain``) of the record's fields exactly as
they were sealed into the hash chain; the other columns are there to search
on, and ``portal audit verify`` checks that they still say what it says.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id


class AccessRecord(Base):
    __tablename__ = "access_record"
    __table_args__ = (
        # The FG's person filter, newest first, and the day chart read from the index alone.
        Index("ix_access_record_user_seq", "user_id", "seq"),
        Index("ix_access_record_day_chart", "occurred_at", "outcome", "emergency_procedure"),
        # The FG's organisation filter and every FG's scope (records of their organisations).
        Index("ix_access_record_organisation_seq", "user_organisation_id", "seq"),
    )

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)  # event id
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)  # 1, 2, 3, ... no gaps
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # UTC, whole ms
    action_code: Mapped[str] = mapped_column(String(1))  # C R U D E
    event_type: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # allowed / denied / failed
    reason: Mapped[str | None] = mapped_column(String(64))
    # Why: purpose of use, and the legal basis the decision relied on.
    purpose_of_use: Mapped[str | None] = mapped_column(String(32))
    basis: Mapped[str | None] = mapped_column(String(200))
    legal_ground: Mapped[str | None] = mapped_column(String(64))
    consent_id: Mapped[str | None] = mapped_column(IdColumn())
    break_glass_id: Mapped[str | None] = mapped_column(IdColumn(), index=True)
    break_glass_reason: Mapped[str | None] = mapped_column(String(1000))
    # The four checks of the Dutch extension of NEN 7513.
    authorised: Mapped[bool] = mapped_column(Boolean, default=False)
    relation_to_case: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_present: Mapped[bool] = mapped_column(Boolean, default=False)
    emergency_procedure: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who, and on whose behalf where that differs.
    user_id: Mapped[str | None] = mapped_column(IdColumn(), index=True)
    user_name: Mapped[str | None] = mapped_column(String(200))
    user_role: Mapped[str | None] = mapped_column(String(200))
    user_organisation_id: Mapped[str | None] = mapped_column(IdColumn())
    on_behalf_of_id: Mapped[str | None] = mapped_column(IdColumn())
    # From where.
    session_ref: Mapped[str | None] = mapped_column(String(16))
    client_address: Mapped[str | None] = mapped_column(String(64))
    # The request's id (portal.ops.logs), as in its log lines; sealed only when set.
    request_id: Mapped[str | None] = mapped_column(String(64))
    # Whose data and what.
    case_id: Mapped[str | None] = mapped_column(IdColumn(), index=True)
    child_id: Mapped[str | None] = mapped_column(IdColumn(), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(IdColumn())
    document_id: Mapped[str | None] = mapped_column(IdColumn())
    document_version: Mapped[int | None] = mapped_column(Integer)
    data_categories: Mapped[str | None] = mapped_column(String(400))  # sorted, comma-joined
    sensitivity: Mapped[str | None] = mapped_column(String(16))  # FHIR confidentiality N/R/V
    query: Mapped[str | None] = mapped_column(String(500))  # a search's filter, never results
    source: Mapped[str] = mapped_column(String(32), default="mdo-portal")
    # The chain: record_hash = SHA-256(domain || prev_hash || encoding).
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    record_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    encoding: Mapped[bytes] = mapped_column(LargeBinary)


class AuditChainHead(Base):
    """The single row that every append locks: the last seq, its hash, the Merkle state.

    Locking this row in the appending transaction is what keeps several workers
    from forking the chain (docs/architecture.md, "Audit").
    """

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    record_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The RFC 6962 compact range over records 1..seq: one 32-byte root per set bit.
    merkle_nodes: Mapped[bytes] = mapped_column(LargeBinary)
    checkpoint_size: Mapped[int] = mapped_column(BigInteger)
    checkpoint_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The newest Dutch day records were appended for, and its accesses by kind: written
    # with the head (no statement of its own); earlier days are in audit_day_count.
    count_day: Mapped[date | None] = mapped_column(Date)
    count_allowed: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    count_break_glass: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    count_denied: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class AuditDayCount(Base):
    """Accesses per Dutch day by kind, maintained with the chain (``ledger``): the
    supervisor's day chart reads a row per day instead of counting the log.

    A day moves here from the chain head when a record of a later day is appended;
    a record of an earlier day (a back-dated import) is added here directly. The
    log is never pruned, so these stay what the records say.
    """

    __tablename__ = "audit_day_count"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    allowed: Mapped[int] = mapped_column(BigInteger)  # allowed, without break-glass
    break_glass: Mapped[int] = mapped_column(BigInteger)  # allowed under break-glass
    denied: Mapped[int] = mapped_column(BigInteger)


class AuditCheckpoint(Base):
    """A signed checkpoint (C2SP signed note) over the first ``size`` records."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    size: Mapped[int] = mapped_column(BigInteger, unique=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The compact range at ``size``: a consistency proof from here reads only newer records.
    # Not trusted: a proof built from a changed value fails against the external root.
    merkle_nodes: Mapped[bytes | None] = mapped_column(LargeBinary)


class WitnessDelivery(Base):
    """Whether a checkpoint reached the witness at ``PORTAL_AUDIT_CHECKPOINT_URL``.

    Kept apart from ``audit_checkpoint`` because that table is append-only; a
    checkpoint without a delivered row here is the backlog (portal/audit/witness.py).
    """

    __tablename__ = "audit_witness_delivery"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))


class WitnessCosignature(Base):
    """The witness's answer to a checkpoint: its cosignature line (C2SP tlog-cosignature).

    This, verified with the witness's key, is what "delivered" means; a row the
    database owner writes without the witness's key does not verify.
    """

    __tablename__ = "audit_witness_cosignature"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    witness: Mapped[str] = mapped_column(String(200))
    line: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WitnessLease(Base):
    """One row: which process delivers to the witness now (so each checkpoint goes once)."""

    __tablename__ = "audit_witness_lease"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holder: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
