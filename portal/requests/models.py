"""A data subject's request and its history.

In the clear: ids, the kind, dates, status and who acts. Everything written
in words (the requester's explanation, notes, the reason of an extension, the
decision's reasons, an identity answer) can identify the child and is sealed
under the request's own data key, so erasing a request is destroying one key.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, UTCDateTime, new_id, str_enum


class RequestKind(enum.StrEnum):
    INSPECTION = "inspection"  # inspection and a copy (4 weeks, the leaflet)
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    PORTABILITY = "portability"


class RequestStatus(enum.StrEnum):
    RECEIVED = "received"
    IDENTITY_CHECK = "identity_check"  # the clock pauses until the requester answers
    IN_PROGRESS = "in_progress"
    DECIDED = "decided"


class Channel(enum.StrEnum):
    PORTAL = "portal"  # filed by the requester, logged in
    PAPER = "paper"  # a letter or mail, registered by the FG


class IdentityCheck(enum.StrEnum):
    """How the requester's identity was established."""

    PORTAL_LOGIN = "portal_login"  # the portal's own login (DigiD broker)
    ID_DOCUMENT = "id_document"  # an identity document shown in person
    KNOWN_IN_PERSON = "known_in_person"  # known to the school in person
    SIGNED_LETTER = "signed_letter"  # a signed letter compared with the register


class Outcome(enum.StrEnum):
    GRANTED = "granted"
    PARTLY_GRANTED = "partly_granted"
    REFUSED = "refused"


class EventKind(enum.StrEnum):
    FILED = "filed"
    REGISTERED = "registered"
    ASSIGNED = "assigned"
    NOTE = "note"
    EXTENDED = "extended"
    IDENTITY_ASKED = "identity_asked"
    IDENTITY_ANSWERED = "identity_answered"
    DECIDED = "decided"
    COPY_PREPARED = "copy_prepared"  # the inspection copy was assembled for review
    COPY_RELEASED = "copy_released"  # the FG released it: the requester can download it


# What the requester reads in their history (internal notes and the owner are not).
VISIBLE_TO_REQUESTER = frozenset({EventKind.FILED, EventKind.REGISTERED, EventKind.EXTENDED,
                                  EventKind.IDENTITY_ASKED, EventKind.IDENTITY_ANSWERED,
                                  EventKind.DECIDED, EventKind.COPY_RELEASED})


class SubjectRequest(Base):
    __tablename__ = "subject_request"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    kind: Mapped[RequestKind] = mapped_column(str_enum(RequestKind, "subject_request_kind"))
    requester_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    child_id: Mapped[str] = mapped_column(ForeignKey("child.id"), index=True)
    # The case it is about, if the requester named one; else every case of the child.
    case_id: Mapped[str | None] = mapped_column(ForeignKey("mdo_case.id"), index=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "subject_request_channel"))
    identity_check: Mapped[IdentityCheck] = mapped_column(
        str_enum(IdentityCheck, "subject_request_identity"))
    received_on: Mapped[date] = mapped_column(Date)  # the clock starts here (Dutch date)
    status: Mapped[RequestStatus] = mapped_column(
        str_enum(RequestStatus, "subject_request_status"), index=True)
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    # No foreign key: shredding deletes the key and leaves this id dangling on purpose.
    data_key_id: Mapped[str] = mapped_column(IdColumn())
    description_ct: Mapped[bytes] = mapped_column(LargeBinary)
    outcome: Mapped[Outcome | None] = mapped_column(str_enum(Outcome, "subject_request_outcome"))
    reasons_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(ForeignKey("person.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The inspection copy (JSON, sealed under the request's key): assembled as the
    # requester may see it, reviewed by the FG, then released for download.
    copy_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    copy_prepared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    copy_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The owner's content-free reminders, each sent once.
    reminded_nearly_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SubjectRequestEvent(Base):
    __tablename__ = "subject_request_event"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(ForeignKey("subject_request.id"), index=True)
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind, "subject_request_event_kind"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"))
    organisation_id: Mapped[str | None] = mapped_column(String(36))
    text_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    visible_to_requester: Mapped[bool] = mapped_column(Boolean)
