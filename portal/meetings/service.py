"""Meetings: scheduled by the chair, announced by content-free mail, viewed, cancelled.

Every read and write goes through the case's policy decision and leaves an
access record; place and agenda are encrypted under a data key of their own. An
agenda carries the data categories the writer chose when scheduling (nothing is
pre-chosen) and is read only on its own item-level decision (``ITEM_READ``, with
the case's consent facts), recorded before anything is decrypted. Date, time and
who is invited stay visible to every participant; the place is logistics, not
case content: every invitee (and whoever may schedule) reads it on the
meeting's own recorded view, whatever the agenda's categories. Mail says only that
something waits in the portal: no child, no case title, no text, no other
recipients.

The category choice and the warning before an unreadable write are shared with
action items (:mod:`portal.meetings.action_items`); a case page's meetings and
action items together are :mod:`portal.meetings.case_agenda`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from portal.audit.service import Requester, record
from portal.cases.gate import authorize, case_facts, is_uuid
from portal.cases.loaded import load_case
from portal.consent.engine import DEFAULT_CATEGORIES, age_on
from portal.consent.status import ordered_categories
from portal.errors import N_, AccessDenied, InvalidInput
from portal.localtime import LOCAL_TIME
from portal.meetings import anonymity
from portal.meetings.binding import open_meeting, record_failed, seal_meeting
from portal.meetings.models import Meeting, MeetingInvitee, MeetingStatus
from portal.meetings.notices import Notice, announce, times_moved
from portal.notifications import events as notifications
from portal.people.models import CUSTODY_RELATIONS, Child, ChildRelation, Person
from portal.policy import Action, Actor, CaseFacts, Deny, ItemFacts, decide
from portal.vault.models import DataKey
from portal.vault.service import Vault, child_field, hold_keys
from portal.web.text import check_text

DURATIONS = (30, 45, 60, 90, 120)
TEXT_MAX = 4000
CATEGORIES = ordered_categories(DEFAULT_CATEGORIES)
DEFAULT_AGENDA_CATEGORIES = ("other",)
UNREADABLE_WARNING = N_("You will not be able to read this back yourself: the kind of "
                        "information you chose is outside your consent scope. Choose another "
                        "kind, or confirm that you want to write it anyway.")


@dataclass(frozen=True)
class NewMeeting:
    starts_at: datetime
    duration_minutes: int
    place: str
    agenda: str
    minute_taker_id: str | None
    invitee_ids: tuple[str, ...]
    invite_family: bool
    categories: tuple[str, ...] = DEFAULT_AGENDA_CATEGORIES


@dataclass(frozen=True)
class MeetingView:
    id: str
    case_id: str
    starts_at: datetime
    duration_minutes: int
    place: str | None  # None: not within the reader's consent scope (or not asked)
    agenda: str | None
    status: MeetingStatus
    minute_taker: str | None
    invitees: Sequence[str]
    can_schedule: bool
    categories: tuple[str, ...] = DEFAULT_AGENDA_CATEGORIES
    damaged: bool = False  # the agenda did not open: damaged, or its categories edited

    @property
    def hidden(self) -> int:
        """How many of its items the reader may not read (the agenda)."""
        return 1 if self.agenda is None and not self.damaged else 0


# -- meetings -----------------------------------------------------------------

def parse_categories(chosen: Sequence[str], default: tuple[str, ...] = ()
                     ) -> tuple[str, ...] | None:
    """The chosen data categories in their usual order; None when one is unknown or,
    without a default, none was chosen."""
    if any(c not in CATEGORIES for c in chosen):
        return None
    return ordered_categories(chosen) if chosen else (default or None)


def parse_when(form: Mapping[str, str], now: datetime, errors: dict[str, str]
               ) -> tuple[datetime, int]:
    """Start (entered in Dutch local time, in the future) and duration of a meeting, as
    scheduled or moved; what is wrong goes into ``errors``."""
    starts_at = now
    try:
        local = datetime.fromisoformat(f"{form.get('date', '')}T{form.get('time', '')}")
        starts_at = local.replace(tzinfo=LOCAL_TIME).astimezone(UTC)
        if starts_at <= now:
            errors["date"] = N_("Choose a date and time in the future.")
    except ValueError:
        errors["date"] = N_("Give a date and a time.")
    try:
        duration = int(form.get("duration", ""))
    except ValueError:
        duration = 0
    if duration not in DURATIONS:
        errors["duration"] = N_("Choose how long the meeting takes.")
    return starts_at, duration


def parse_new_meeting(form: Mapping[str, str], invitee_ids: Sequence[str],
                      now: datetime, categories: Sequence[str] = ()) -> NewMeeting:
    """Validate the schedule form; times are entered in Dutch local time."""
    errors: dict[str, str] = {}
    agenda_categories = parse_categories(categories)
    if agenda_categories is None:
        errors["category"] = N_("Choose what kind of information the agenda holds.")
    starts_at, duration = parse_when(form, now, errors)
    place, agenda = form.get("place", "").strip(), form.get("agenda", "").strip()
    if not place or len(place) > 500:
        errors["place"] = N_("Give a place or a video link.")
    if len(agenda) > TEXT_MAX:
        errors["agenda"] = N_("The agenda is too long.")
    check_text(errors, {"place": place, "agenda": agenda}, multiline=("agenda",))
    if errors:
        raise InvalidInput(errors)
    return NewMeeting(starts_at=starts_at, duration_minutes=duration, place=place,
                      agenda=agenda, minute_taker_id=form.get("minute_taker_id") or None,
                      invitee_ids=tuple(invitee_ids),
                      invite_family=form.get("invite_family") == "on",
                      categories=agenda_categories or ())


def schedule_meeting(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                     case_id: str, new: NewMeeting, public_url: str, *,
                     confirm_identifiers: bool = False, confirm_unreadable: bool = False) -> str:
    facts = authorize(db, who, actor, now, Action.MEETING_SCHEDULE, case_id,
                      event_type="meeting.schedule", action_code="create")
    if not confirm_unreadable:
        refuse_unreadable(db, vault, actor, now, facts.case_id, "meeting_agenda",
                          new.categories, field="category")
    unknown = [p for p in (*new.invitee_ids, new.minute_taker_id)
               if p is not None and p not in facts.participants]
    if unknown:
        raise InvalidInput({"invitees": N_("Only participants of the case can be invited.")})
    confirmed = anonymity.guard(db, vault, who, actor, facts,
                                {"place": new.place, "agenda": new.agenda}, now,
                                confirm_identifiers)
    meeting = Meeting(case_id=facts.case_id, starts_at=new.starts_at,
                      duration_minutes=new.duration_minutes, place_ct=b"", agenda_ct=b"",
                      agenda_categories=list(new.categories),
                      minute_taker_id=new.minute_taker_id, status=MeetingStatus.SCHEDULED,
                      created_by=actor.person_id, created_at=now)
    db.add(meeting)
    db.flush()
    seal_meeting(vault, vault.new_key(db, "meeting", meeting.id, now), meeting,
                 place=new.place, agenda=new.agenda)
    invitees = set(new.invitee_ids) | {actor.person_id}
    if new.minute_taker_id:
        invitees.add(new.minute_taker_id)
    family = _family_of(db, vault, facts.child_id, now) if new.invite_family else set()
    for person_id in sorted(invitees | family):
        db.add(MeetingInvitee(meeting_id=meeting.id, person_id=person_id,
                              family=person_id in family, invited_at=now))
    db.flush()
    anonymity.record_confirmed(db, facts, "meeting", meeting.id, actor, confirmed, now)
    announce(db, meeting, now, public_url, Notice.INVITATION)
    notifications.meeting_announced(db, now, meeting, actor.person_id)
    return meeting.id


def _family_of(db: Session, vault: Vault, child_id: str | None, now: datetime) -> set[str]:
    """Who speaks for the child: the pupil from 16, otherwise the adults with custody."""
    if child_id is None:
        return set()
    child = db.get_one(Child, child_id)
    if child.person_id is not None:
        born = date.fromisoformat(vault.open(db, child.birthdate_ct,
                                             child_field(child.id, "birthdate")))
        if age_on(born, now.astimezone(LOCAL_TIME).date()) >= 16:
            return {child.person_id}
    return set(db.scalars(select(ChildRelation.person_id).where(
        ChildRelation.child_id == child_id,
        ChildRelation.relation.in_(list(CUSTODY_RELATIONS)))))


def cancel_meeting(db: Session, who: Requester, actor: Actor, now: datetime, meeting_id: str,
                   public_url: str) -> str:
    meeting = _meeting(db, who, actor, now, meeting_id, Action.MEETING_SCHEDULE,
                       "meeting.cancel", "update")
    if meeting.status is MeetingStatus.SCHEDULED:
        meeting.status = MeetingStatus.CANCELLED
        db.flush()
        # The cancellation replaces the entry as it stands after any move.
        announce(db, meeting, now, public_url, Notice.CANCELLED,
                 sequence=times_moved(db, meeting))
        notifications.meeting_cancelled(db, now, meeting, actor.person_id)
    return meeting.case_id


def _meeting(db: Session, who: Requester, actor: Actor, now: datetime, meeting_id: str,
             action: Action, event_type: str, action_code: str) -> Meeting:
    meeting = None
    if is_uuid(meeting_id):
        # The meeting's wrapped key comes along, held for this transaction (unwrapped
        # only when its place or agenda is opened on a recorded decision).
        key = aliased(DataKey)
        row = db.execute(select(Meeting, key)
                         .outerjoin(key, (key.owner_type == "meeting")
                                    & (key.owner_id == Meeting.id))
                         .where(Meeting.id == meeting_id)).first()
        if row is not None:
            meeting = row[0]
            hold_keys(db, (row[1],))
    if meeting is None:
        record(db, who, now, event_type=event_type, action=action_code,
               decision=Deny(reason="no_such_meeting", hide=True), object_type="meeting")
        raise AccessDenied(Deny(reason="no_such_meeting", hide=True))
    authorize(db, who, actor, now, action, meeting.case_id, event_type=event_type,
              action_code=action_code)
    return meeting


def view_meeting(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                 meeting_id: str) -> MeetingView:
    """A meeting's page: date, time and invitees for participants; place and agenda
    only on the item-level decision for the agenda's categories."""
    meeting = _meeting(db, who, actor, now, meeting_id, Action.MEETING_VIEW, "meeting.view",
                       "read")
    facts = case_facts(db, meeting.case_id, vault, now)
    assert facts is not None  # the meeting's case exists: foreign key
    item = ItemFacts(item_type="meeting_agenda", item_id=meeting.id,
                     categories=frozenset(meeting.agenda_categories))
    readable = _read_item(db, who, now, actor, facts, item, "meeting.agenda.read")
    invitees = dict(db.execute(select(MeetingInvitee.person_id, Person.display_name)
                               .join(Person, Person.id == MeetingInvitee.person_id)
                               .where(MeetingInvitee.meeting_id == meeting.id)).all())
    invited = actor.person_id in invitees
    logistics = invited or readable or decide(actor, Action.MEETING_SCHEDULE, facts).allowed
    taker = meeting.minute_taker_id
    view = _meeting_view(db, vault, actor, meeting, facts, content=readable, place=logistics,
                         invitees=sorted(invitees.values()),
                         minute_taker=_names(db, [taker], meeting.case_id).get(taker)
                         if taker else None)
    if view.damaged:  # damaged, or its categories edited in the database: withheld, on record
        record_failed(db, who, now, facts, event_type="meeting.agenda.read", action="read",
                      object_type=item.item_type, object_id=item.item_id,
                      categories=item.categories)
    return view


def refuse_unreadable(db: Session, vault: Vault, actor: Actor, now: datetime, case_id: str,
                      item_type: str, categories: Sequence[str], *, field: str) -> None:
    """Warn the writer, with the same policy that will decide the reads, when they are
    about to write something under categories they cannot read back themselves."""
    facts = case_facts(db, case_id, vault, now)
    assert facts is not None  # authorised just before: the case exists
    item = ItemFacts(item_type=item_type, item_id="", categories=frozenset(categories))
    if not decide(actor, Action.ITEM_READ, facts, item).allowed:
        raise InvalidInput({field: UNREADABLE_WARNING})


def _read_item(db: Session, who: Requester, now: datetime, actor: Actor, facts: CaseFacts,
               item: ItemFacts, event_type: str) -> bool:
    """Decide one agenda or action item, record it (allowed or not), answer whether to show."""
    decision = decide(actor, Action.ITEM_READ, facts, item)
    record(db, who, now, event_type=event_type, action="read", decision=decision,
           case_id=facts.case_id, child_id=facts.child_id, object_type=item.item_type,
           object_id=item.item_id, data_categories=sorted(item.categories))
    return decision.allowed


def _names(db: Session, person_ids: Iterable[str], case_id: str) -> dict[str, str]:
    """Display names, from the participants this request loaded; others looked up."""
    loaded = load_case(db, case_id)
    known = loaded.names() if loaded is not None else {}
    wanted = set(person_ids)
    missing = wanted - known.keys()
    if missing:
        known = {**known, **dict(db.execute(select(Person.id, Person.display_name)
                                            .where(Person.id.in_(missing))).all())}
    return {p: known[p] for p in wanted if p in known}


def _invitees(db: Session, meeting_ids: Sequence[str]) -> dict[str, list[str]]:
    """Each meeting's invitees' names, sorted, in one query."""
    found: dict[str, list[str]] = {meeting_id: [] for meeting_id in meeting_ids}
    for meeting_id, name in db.execute(
            select(MeetingInvitee.meeting_id, Person.display_name)
            .join(Person, Person.id == MeetingInvitee.person_id)
            .where(MeetingInvitee.meeting_id.in_(list(meeting_ids)))):
        found[meeting_id].append(name)
    return {meeting_id: sorted(names) for meeting_id, names in found.items()}


def _meeting_view(db: Session, vault: Vault, actor: Actor, meeting: Meeting, facts: CaseFacts,
                  *, content: bool, place: bool = False,
                  invitees: Sequence[str] | None = None,
                  minute_taker: str | None = None) -> MeetingView:
    """``content``: the agenda's item-level decision allowed it and was recorded;
    ``place``: the reader is invited (or schedules) and the meeting's view was recorded.
    ``invitees``, ``minute_taker``: their names, when a list looked them up for all
    its meetings at once."""
    if invitees is None:
        invitees = _invitees(db, [meeting.id])[meeting.id]
        taker = db.get(Person, meeting.minute_taker_id) if meeting.minute_taker_id else None
        minute_taker = taker.display_name if taker else None
    where, agenda, damaged = open_meeting(db, vault, meeting, place=place, agenda=content)
    return MeetingView(
        id=meeting.id, case_id=meeting.case_id, starts_at=meeting.starts_at,
        duration_minutes=meeting.duration_minutes, place=where, agenda=agenda,
        status=meeting.status,
        minute_taker=minute_taker,
        invitees=list(invitees),
        can_schedule=decide(actor, Action.MEETING_SCHEDULE, facts).allowed,
        categories=ordered_categories(meeting.agenda_categories), damaged=damaged,
    )
