"""Meetings and action items: scheduled by the chair, announced by content-free mail.

Every read and write goes through the case's policy decision and leaves an
access record; place, agenda and action-item texts are encrypted under a data
key of their own. An agenda carries the data categories the writer chose when
scheduling (nothing is pre-chosen), an action item those chosen with it, and
each is read only on its own item-level decision (``ITEM_READ``, with the
case's consent facts), recorded before anything is decrypted. Date, time and
who is invited stay visible to every participant; the place is logistics, not
case content: every invitee (and whoever may schedule) reads it on the
meeting's own recorded view, whatever the agenda's categories. Mail says only that
something waits in the portal: no child, no case title, no text, no other
recipients.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from crypto import DecryptionError, record_dek_id
from portal.audit.models import AccessRecord
from portal.audit.service import Requester, entry, record, record_all
from portal.cases.gate import authorize, case_facts, is_uuid
from portal.cases.loaded import load_case, recall, remember, want_keys
from portal.consent.engine import DEFAULT_CATEGORIES, age_on
from portal.consent.status import ordered_categories
from portal.errors import N_, AccessDenied, InvalidInput
from portal.localtime import LOCAL_TIME
from portal.meetings import anonymity
from portal.meetings.binding import (
    ItemDamaged,
    authentic_item,
    open_item,
    open_meeting,
    record_failed,
    seal_item,
    seal_meeting,
)
from portal.meetings.models import (
    ActionItem,
    ActionItemStatus,
    Meeting,
    MeetingInvitee,
    MeetingStatus,
)
from portal.meetings.notices import Notice, announce, times_moved
from portal.notifications import events as notifications
from portal.people.models import CUSTODY_RELATIONS, Child, ChildRelation, Person
from portal.policy import Action, Actor, CaseFacts, Decision, Deny, ItemFacts, decide
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


@dataclass(frozen=True)
class ActionItemView:
    id: str
    case_id: str
    text: str
    owner: str
    categories: tuple[str, ...]
    due_on: date
    status: ActionItemStatus
    overdue: bool
    can_update: bool


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


def schedule_form(db: Session, who: Requester, actor: Actor, now: datetime,
                  case_id: str) -> CaseAgenda:
    """What the chair chooses from when scheduling: the case's participants."""
    facts = authorize(db, who, actor, now, Action.MEETING_SCHEDULE, case_id,
                      event_type="meeting.schedule.form", action_code="read")
    return CaseAgenda((), (), True, False, _participant_names(db, facts.participants))


@dataclass(frozen=True)
class CaseAgenda:
    meetings: Sequence[MeetingView]
    action_items: Sequence[ActionItemView]
    can_schedule: bool
    can_manage_items: bool
    participants: Sequence[tuple[str, str]]  # (person id, name) for the forms
    hidden_items: int = 0  # action items not within the reader's consent scope
    categories: tuple[str, ...] = CATEGORIES  # to choose from for a new action item


def case_agenda(db: Session, vault: Vault, actor: Actor, now: datetime, case_id: str,
                who: Requester | None = None, *, fragment: bool = True,
                facts: CaseFacts | None = None) -> CaseAgenda:
    """The meetings (date and time) and action items shown on a case page or fragment.

    On the case page (``fragment=False``) the page's own read (``view_case``) is
    the record; a fragment rendered on its own gets a record of its own. Each
    action item's text is read on its own decision, recorded with ``who``;
    without ``who`` no text is decrypted. A case under restriction shows none of
    it, whatever the roles say. ``facts``: the case page's own (with consent, at
    ``now``), so the case is not loaded again."""
    if facts is None or facts.case_id != case_id or facts.now != now:
        facts = case_facts(db, case_id, vault, now)
    # The case page decided (and recorded) its agenda with its own read: see plan_case_page.
    plan = recall(db, _plan_key(case_id, now, actor, who)) \
        if who is not None and not fragment and facts is not None else None
    if not isinstance(plan, _AgendaPlan):
        plan = _plan_agenda(db, vault, who, actor, now, facts)
        if who is not None:
            record_all(db, [*_agenda_entries(who, now, plan, fragment=fragment),
                            *_item_entries(who, now, plan.items)])
    if plan.facts is None or not plan.decision.allowed:
        return CaseAgenda((), (), False, False, ())
    facts, meetings, invitees = plan.facts, plan.meetings, plan.invitees
    names = _names(db, {*facts.participants,
                        *(m.minute_taker_id for m in meetings if m.minute_taker_id)},
                   facts.case_id)
    items, hidden = _open_items(db, vault, actor, now, who, plan.items)
    return CaseAgenda(
        # The list shows date and time only: no place or agenda is decrypted for it.
        meetings=[_meeting_view(db, vault, actor, m, facts, content=False,
                                invitees=invitees[m.id],
                                minute_taker=names.get(m.minute_taker_id or ""))
                  for m in meetings],
        action_items=items, hidden_items=hidden,
        can_schedule=decide(actor, Action.MEETING_SCHEDULE, facts).allowed,
        can_manage_items=decide(actor, Action.ACTION_ITEM_MANAGE, facts).allowed,
        participants=sorted(((p, names[p]) for p in facts.participants if p in names),
                            key=lambda item: item[1]),
    )


@dataclass(frozen=True)
class _AgendaPlan:
    """A case's agenda decided, its rows loaded, nothing recorded or decrypted yet."""

    facts: CaseFacts | None
    decision: Decision
    meetings: Sequence[Meeting] = ()
    invitees: Mapping[str, Sequence[str]] = field(default_factory=dict)
    items: Sequence[_DecidedItem] = ()


def _plan_key(case_id: str, now: datetime, actor: Actor, who: Requester | None) -> Hashable:
    return ("agenda plan", case_id, now, actor.person_id, who)


def _plan_agenda(db: Session, vault: Vault, who: Requester | None, actor: Actor,
                 now: datetime, facts: CaseFacts | None) -> _AgendaPlan:
    if facts is None:
        return _AgendaPlan(None, Deny(reason="no_such_case", hide=True))
    decision = Deny(reason="restricted") if facts.restricted else \
        decide(actor, Action.MEETING_VIEW, facts)
    if not decision.allowed:
        return _AgendaPlan(facts, decision)
    meetings, invitees = _meetings_with_invitees(db, facts.case_id)
    rows = _rows(db, select_items(case_id=facts.case_id))
    return _AgendaPlan(facts, decision, meetings, invitees, _decide_items(
        db, vault, actor, now, rows, who, listed=False, facts={facts.case_id: facts}))


def _agenda_entries(who: Requester, now: datetime, plan: _AgendaPlan, *,
                    fragment: bool) -> list[AccessRecord]:
    """A fragment rendered on its own is a read of its own; on the case page the page's
    own read is the record."""
    if not fragment:
        return []
    facts = plan.facts
    return [entry(who, now, event_type="meeting.agenda", action="read", decision=plan.decision,
                  case_id=facts.case_id if facts else None,
                  child_id=facts.child_id if facts else None, object_type="case",
                  object_id=facts.case_id if facts else None)]


def plan_case_page(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                   facts: CaseFacts) -> list[AccessRecord]:
    """The agenda of a case page decided ahead of the page's read: the records to write
    with it (in one go, before anything is decrypted). ``case_agenda`` with the same
    ``who`` then shows what was decided, in this transaction, without recording again."""
    plan = _plan_agenda(db, vault, who, actor, now, facts)
    remember(db, _plan_key(facts.case_id, now, actor, who), plan)
    want_keys(db, _key_ids(d.item for d in plan.items if d.read is not None and d.read.allowed))
    return _item_entries(who, now, plan.items)


def _meetings_with_invitees(db: Session, case_id: str
                            ) -> tuple[list[Meeting], dict[str, list[str]]]:
    """The case's meetings in time order and each one's invitees' names, in one query."""
    meetings: dict[str, Meeting] = {}
    invitees: dict[str, list[str]] = {}
    for meeting, name in db.execute(
            select(Meeting, Person.display_name)
            .outerjoin(MeetingInvitee, MeetingInvitee.meeting_id == Meeting.id)
            .outerjoin(Person, Person.id == MeetingInvitee.person_id)
            .where(Meeting.case_id == case_id)
            .order_by(Meeting.starts_at, Meeting.id)):
        meetings.setdefault(meeting.id, meeting)
        found = invitees.setdefault(meeting.id, [])
        if name is not None:
            found.append(name)
    return list(meetings.values()), {m: sorted(names) for m, names in invitees.items()}


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


def _participant_names(db: Session, person_ids: Iterable[str]) -> list[tuple[str, str]]:
    names = dict(db.execute(select(Person.id, Person.display_name)
                            .where(Person.id.in_(list(person_ids)))).all())
    return sorted(names.items(), key=lambda item: item[1])


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


# -- action items ---------------------------------------------------------------

def add_action_item(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                    case_id: str, *, text: str, owner_id: str, due_on: str,
                    categories: Sequence[str] = (), confirm_identifiers: bool = False,
                    confirm_unreadable: bool = False) -> None:
    facts = authorize(db, who, actor, now, Action.ACTION_ITEM_MANAGE, case_id,
                      event_type="action_item.create", action_code="create")
    errors: dict[str, str] = {}
    chosen = parse_categories(categories)
    if chosen is None:
        errors["category"] = N_("Choose what kind of information the action item holds.")
    text = text.strip()
    if not text or len(text) > TEXT_MAX:
        errors["text"] = N_("Describe what will be done.")
    check_text(errors, {"text": text}, multiline=("text",))
    if owner_id not in facts.participants:
        errors["owner_id"] = N_("Choose who carries it out.")
    try:
        due = date.fromisoformat(due_on)
    except ValueError:
        errors["due_on"] = N_("Give a due date.")
        due = now.date()
    if errors:
        raise InvalidInput(errors)
    if not confirm_unreadable:
        refuse_unreadable(db, vault, actor, now, facts.case_id, "action_item", chosen or (),
                          field="category")
    confirmed = anonymity.guard(db, vault, who, actor, facts, {"text": text}, now,
                                confirm_identifiers)
    item = ActionItem(case_id=facts.case_id, owner_id=owner_id, text_ct=b"", due_on=due,
                      categories=list(chosen or ()), status=ActionItemStatus.OPEN,
                      created_by=actor.person_id, created_at=now)
    db.add(item)
    db.flush()
    seal_item(vault, vault.new_key(db, "action_item", item.id, now), item, text)
    anonymity.record_confirmed(db, facts, "action_item", item.id, actor, confirmed, now)
    db.flush()
    notifications.action_item_assigned(db, now, facts.case_id, item.id, owner_id,
                                       actor.person_id)


def set_action_item_status(db: Session, who: Requester, actor: Actor, now: datetime,
                           item_id: str, done: bool, vault: Vault | None = None) -> ActionItem:
    """Mark an item done or open; with ``vault`` only once its owner and categories are
    proven to be those it was sealed with (``ItemDamaged`` otherwise, on record)."""
    item = db.get(ActionItem, item_id) if is_uuid(item_id) else None
    facts = case_facts(db, item.case_id) if item is not None else None
    if item is None or facts is None:
        record(db, who, now, event_type="action_item.update", action="update",
               decision=Deny(reason="no_such_item", hide=True), object_type="action_item")
        raise AccessDenied(Deny(reason="no_such_item", hide=True))
    decision = decide(actor, Action.ACTION_ITEM_UPDATE, facts, _item_facts(item))
    record(db, who, now, event_type="action_item.update", action="update", decision=decision,
           case_id=item.case_id, child_id=facts.child_id, object_type="action_item",
           object_id=item.id)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    if vault is not None and not authentic_item(db, vault, item):
        record_failed(db, who, now, facts, event_type="action_item.update", action="update",
                      object_type="action_item", object_id=item.id)
        raise ItemDamaged(item.id)
    item.status = ActionItemStatus.DONE if done else ActionItemStatus.OPEN
    item.completed_at = now if done else None
    db.flush()
    return item


def _item_facts(item: ActionItem) -> ItemFacts:
    return ItemFacts(item_type="action_item", item_id=item.id,
                     categories=frozenset(item.categories), owner_id=item.owner_id)


def select_items(*, case_id: str | None = None,
                 owner_id: str | None = None) -> Select[ActionItem, str]:
    query = select(ActionItem, Person.display_name).join(Person, Person.id == ActionItem.owner_id)
    if case_id is not None:
        query = query.where(ActionItem.case_id == case_id)
    if owner_id is not None:
        query = query.where(ActionItem.owner_id == owner_id,
                            ActionItem.status == ActionItemStatus.OPEN)
    return query.order_by(ActionItem.due_on, ActionItem.created_at)


def my_action_items(db: Session, vault: Vault, who: Requester, actor: Actor,
                    now: datetime) -> list[ActionItemView]:
    """The actor's open items across cases; each listed item is recorded on its own.

    Only items whose text the actor may read are listed (an owner outside the
    consent scope of their own item learns of it on the case page, as a count)."""
    items, _hidden = _item_views(db, vault, actor, now, select_items(owner_id=actor.person_id),
                                 who, listed=True, facts={})
    return items


@dataclass(frozen=True)
class _DecidedItem:
    item: ActionItem
    owner: str
    case: CaseFacts
    facts: ItemFacts
    listed: Decision | None  # the case's own view, per item in a list across cases
    read: Decision | None  # the item-level decision; None: not asked (nothing is read)


def _decide_items(db: Session, vault: Vault, actor: Actor, now: datetime,
                  rows: Sequence[tuple[ActionItem, str]], who: Requester | None, *,
                  listed: bool, facts: dict[str, CaseFacts | None]) -> list[_DecidedItem]:
    """Every item's decisions, nothing written or decrypted yet. ``facts`` caches each
    case's facts (with consent)."""
    decided = []
    for item, owner in rows:
        if item.case_id not in facts:
            facts[item.case_id] = case_facts(db, item.case_id, vault, now)
        case = facts[item.case_id]
        assert case is not None  # the item's case exists: foreign key
        view = decide(actor, Action.CASE_VIEW, case) if listed else None
        item_facts = _item_facts(item)
        read = decide(actor, Action.ITEM_READ, case, item_facts) \
            if who is not None and (view is None or view.allowed) else None
        decided.append(_DecidedItem(item, owner, case, item_facts, view, read))
    return decided


def _item_entries(who: Requester, now: datetime,
                  decided: Iterable[_DecidedItem]) -> list[AccessRecord]:
    """The records of the items' decisions, in the order they were made."""
    entries = []
    for d in decided:
        if d.listed is not None:
            entries.append(entry(who, now, event_type="action_item.list", action="read",
                                 decision=d.listed, case_id=d.item.case_id,
                                 child_id=d.case.child_id, object_type="action_item",
                                 object_id=d.item.id))
        if d.read is not None:
            entries.append(entry(who, now, event_type="action_item.read", action="read",
                                 decision=d.read, case_id=d.case.case_id,
                                 child_id=d.case.child_id, object_type="action_item",
                                 object_id=d.item.id,
                                 data_categories=sorted(d.facts.categories)))
    return entries


def _item_views(db: Session, vault: Vault, actor: Actor, now: datetime,
                query: Select[ActionItem, str], who: Requester | None, *, listed: bool,
                facts: dict[str, CaseFacts | None]) -> tuple[list[ActionItemView], int]:
    """The items the actor may read, and how many more exist outside their consent scope.

    ``listed``: a list across cases, where the case's own view is decided and
    recorded per item too. All the items' records are written in one go, before
    any text is decrypted.
    """
    decided = _decide_items(db, vault, actor, now, _rows(db, query), who,
                            listed=listed, facts=facts)
    if who is not None:
        record_all(db, _item_entries(who, now, decided))
    return _open_items(db, vault, actor, now, who, decided)


def _open_items(db: Session, vault: Vault, actor: Actor, now: datetime, who: Requester | None,
                decided: Sequence[_DecidedItem]) -> tuple[list[ActionItemView], int]:
    """The decided items' texts (their records written before), and how many are hidden."""
    views, hidden = [], 0
    shown = [d for d in decided if d.listed is None or d.listed.allowed]
    vault.preload(db, _key_ids(d.item for d in shown if d.read is not None and d.read.allowed))
    for d in shown:
        item, case, item_facts = d.item, d.case, d.facts
        if who is None or d.read is None or not d.read.allowed:
            hidden += 1
            continue
        try:
            text = open_item(db, vault, item)
        except DecryptionError:  # damaged, or its categories or owner edited: withheld
            record_failed(db, who, now, case, event_type="action_item.read", action="read",
                          object_type="action_item", object_id=item.id,
                          categories=item_facts.categories)
            hidden += 1
            continue
        views.append(ActionItemView(
            id=item.id, case_id=item.case_id, owner=d.owner, due_on=item.due_on,
            categories=ordered_categories(item.categories), text=text,
            status=item.status,
            overdue=item.status is ActionItemStatus.OPEN and item.due_on < now.date(),
            can_update=decide(actor, Action.ACTION_ITEM_UPDATE, case, item_facts).allowed))
    return views, hidden


def _rows(db: Session, query: Select[ActionItem, str]) -> list[tuple[ActionItem, str]]:
    """The items with their owners' names; each item's wrapped key comes along and is
    held for this transaction (unwrapped only when a text is opened after its read
    was decided and recorded)."""
    key = aliased(DataKey)
    rows = []
    for item, owner, wrapped in db.execute(query.outerjoin(
            key, (key.owner_type == "action_item") & (key.owner_id == ActionItem.id))
            .add_columns(key)):
        hold_keys(db, (wrapped,))
        rows.append((item, owner))
    return rows


def _key_ids(items: Iterable[ActionItem]) -> list[str]:
    """The items' key ids to unwrap in one look-up; a damaged blob is left to ``open_item``."""
    ids = []
    for item in items:
        try:
            ids.append(record_dek_id(item.text_ct))
        except (DecryptionError, ValueError):
            continue
    return ids
