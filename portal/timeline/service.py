"""A case's story at a glance: what happened when, filtered by what the viewer may see.

The timeline shows facts about events — kinds, dates, data categories,
version numbers — and never a title, a text or a name of a family member:
those stay behind the item pages, each with its own decision and record.
Even so, each kind of event is shown only when the policy lets the viewer see
that kind of thing: meetings and action items with ``MEETING_VIEW``, consents
with ``CONSENT_VIEW``, documents one by one with ``ITEM_READ`` on the
document's categories (each decision recorded, as in the documents list), so
the timeline never reveals more than the pages it summarises.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.cases.gate import authorize
from portal.cases.models import Case
from portal.consent.models import BreakGlassGrant, CaseGround, ConsentRecord, GroundEvent
from portal.documents.models import (
    CaseDocument,
    DocumentErasure,
    DocumentKind,
)
from portal.documents.service import about, categories_of, complete_versions, item_facts
from portal.meetings.models import ActionItem, Meeting, MeetingStatus
from portal.meetings.notices import moves_of_case
from portal.minutes.models import Minutes, MinutesVersion
from portal.policy import Action, Actor, CaseFacts, decide
from portal.vault.service import Vault


class EventKind(enum.StrEnum):
    CASE_OPENED = "case_opened"
    MEETING_SCHEDULED = "meeting_scheduled"
    MEETING_CANCELLED = "meeting_cancelled"
    MEETING_MOVED = "meeting_moved"
    DOCUMENT_ADDED = "document_added"
    DOCUMENT_REVISED = "document_revised"
    DOCUMENT_ERASED = "document_erased"
    CONSENT_GIVEN = "consent_given"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    SAFETY_EXCEPTION = "safety_exception"
    ACTION_AGREED = "action_agreed"
    ACTION_DONE = "action_done"
    MINUTES_SAVED = "minutes_saved"
    MINUTES_APPROVED = "minutes_approved"
    GROUND = "ground"  # a legal ground invoked, changed, ended, reviewed or scoped (subject)


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: EventKind
    categories: tuple[str, ...] = ()
    # What the event is about, without content: the kind of document and a
    # version number, or "adult"/"child" for a consenter.
    document_kind: DocumentKind | None = None
    subject: str | None = None
    version: int | None = None
    link: str | None = None


@dataclass(frozen=True)
class Timeline:
    case_id: str
    events: list[Event]
    hidden: int  # documents outside the viewer's consent scope: a count, nothing more
    restricted: bool = False  # the whole case is under restriction: its history is not shown


def case_timeline(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                  case_id: str) -> Timeline:
    """The case's events, newest first; the view and each document decision are recorded."""
    facts = authorize(db, who, actor, now, Action.CASE_VIEW, case_id,
                      event_type="case.timeline", action_code="read", vault=vault)
    case = db.get_one(Case, facts.case_id)
    events = [Event(at=case.created_at, kind=EventKind.CASE_OPENED)]
    if facts.restricted:
        # A restriction beats everything: as on the case page (``case_agenda``
        # shows nothing), no meeting, minutes, action item, consent or document
        # appears, not even as a date; only that the case exists and is restricted.
        return Timeline(case_id=facts.case_id, events=events, hidden=0, restricted=True)
    if decide(actor, Action.MEETING_VIEW, facts).allowed:
        events += _meetings(db, facts.case_id)
    if decide(actor, Action.CONSENT_VIEW, facts).allowed:
        events += _consents(db, facts.case_id)
    events += _safety_exceptions(db, facts.case_id)
    events += ground_events(db, facts.case_id)
    readable, hidden = _documents(db, who, actor, now, facts)
    events += readable
    events.sort(key=lambda e: (e.at, e.kind.value), reverse=True)
    return Timeline(case_id=facts.case_id, events=events, hidden=hidden)


def _meetings(db: Session, case_id: str) -> list[Event]:
    events = []
    for meeting in db.scalars(select(Meeting).where(Meeting.case_id == case_id)):
        link = f"/meetings/{meeting.id}"
        events.append(Event(at=meeting.created_at, kind=EventKind.MEETING_SCHEDULED, link=link))
        if meeting.status is MeetingStatus.CANCELLED:
            # The cancellation time is not kept; the meeting's own date marks it.
            events.append(Event(at=meeting.starts_at, kind=EventKind.MEETING_CANCELLED,
                                link=link))
    events += [Event(at=at, kind=EventKind.MEETING_MOVED, link=f"/meetings/{meeting_id}")
               for at, meeting_id in moves_of_case(db, case_id)]
    # Minutes versions: that one was saved or approved, never a section of it
    # (each section has its own decision on the minutes page).
    for meeting_id, number, created_at, approved_at in db.execute(
            select(Minutes.meeting_id, MinutesVersion.version, MinutesVersion.created_at,
                   MinutesVersion.approved_at)
            .join(MinutesVersion, MinutesVersion.minutes_id == Minutes.id)
            .where(Minutes.case_id == case_id)):
        link = f"/meetings/{meeting_id}/minutes"
        events.append(Event(at=created_at, kind=EventKind.MINUTES_SAVED, version=number,
                            link=link))
        if approved_at is not None:
            events.append(Event(at=approved_at, kind=EventKind.MINUTES_APPROVED,
                                version=number, link=link))
    for item in db.scalars(select(ActionItem).where(ActionItem.case_id == case_id)):
        events.append(Event(at=item.created_at, kind=EventKind.ACTION_AGREED))
        if item.completed_at is not None:
            events.append(Event(at=item.completed_at, kind=EventKind.ACTION_DONE))
    return events


def _consents(db: Session, case_id: str) -> list[Event]:
    events = []
    for consent in db.scalars(select(ConsentRecord).where(ConsentRecord.case_id == case_id)):
        categories = tuple(sorted(consent.categories))
        subject = consent.consenter_kind.value
        events.append(Event(at=consent.given_at, kind=EventKind.CONSENT_GIVEN,
                            categories=categories, subject=subject))
        if consent.withdrawn_at is not None:
            events.append(Event(at=consent.withdrawn_at, kind=EventKind.CONSENT_WITHDRAWN,
                                categories=categories, subject=subject))
    return events


def _safety_exceptions(db: Session, case_id: str) -> list[Event]:
    # Shown to everyone who may see the case (the consent issue asks for it);
    # the reason is the grant holder's and the DPO's business, not shown here.
    return [Event(at=granted_at, kind=EventKind.SAFETY_EXCEPTION)
            for granted_at in db.scalars(select(BreakGlassGrant.granted_at)
                                         .where(BreakGlassGrant.case_id == case_id))]


def ground_events(db: Session, case_id: str) -> list[Event]:
    # Like the safety exception: that a ground was used is visible to all who see
    # the case; its justification and reasons stay on the grounds page.
    rows = db.execute(select(GroundEvent.at, GroundEvent.kind, CaseGround.basis)
                      .join(CaseGround, CaseGround.id == GroundEvent.ground_id)
                      .where(GroundEvent.case_id == case_id)).all()
    return [Event(at=at, kind=EventKind.GROUND, subject=f"{kind.value}:{basis.value}",
                  link=f"/cases/{case_id}/grounds") for at, kind, basis in rows]


def _documents(db: Session, who: Requester, actor: Actor, now: datetime,
               facts: CaseFacts) -> tuple[list[Event], int]:
    events: list[Event] = []
    hidden = 0
    documents = db.scalars(select(CaseDocument).where(CaseDocument.case_id == facts.case_id)
                           .order_by(CaseDocument.created_at, CaseDocument.id)).all()
    history = complete_versions(db, (d.id for d in documents))
    for document in documents:
        versions = history.get(document.id)
        if not versions:
            continue  # still being written: not there yet for anyone
        decision = decide(actor, Action.ITEM_READ, facts, item_facts(document))
        record(db, who, now, event_type="timeline.item", action="read", decision=decision,
               case_id=facts.case_id, child_id=facts.child_id,
               object_type=document.kind.value, object_id=document.id,
               **about(document, versions[-1].version))
        if not decision.allowed:
            hidden += 1
            continue
        categories = categories_of(document)
        link = f"/cases/{facts.case_id}/documents/{document.id}"
        for version in versions:
            events.append(Event(
                at=version.created_at,
                kind=EventKind.DOCUMENT_ADDED if version.version == 1
                else EventKind.DOCUMENT_REVISED,
                categories=categories, document_kind=document.kind, version=version.version,
                link=link))
    for erasure in db.scalars(select(DocumentErasure)
                              .where(DocumentErasure.case_id == facts.case_id)):
        # What was erased and when stays visible to the case (the encryption
        # issue asks for it); there is nothing left to decide a read on.
        events.append(Event(at=erasure.erased_at, kind=EventKind.DOCUMENT_ERASED,
                            categories=tuple(c for c in erasure.categories.split(",") if c),
                            document_kind=erasure.kind, version=erasure.versions))
    return events, hidden
