"""A case's agenda: the meetings (date and time) and action items of a case page.

The case page decides its agenda ahead of its own read (``plan_case_page``),
so the records go in with the page's, in one insert, before anything is
decrypted; ``case_agenda`` then shows what was decided, or, rendered on its
own as a fragment, decides and records itself. The scheduling form's choices
(``schedule_form``) come in the same shape.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.models import AccessRecord
from portal.audit.service import Requester, entry, record_all
from portal.cases.gate import authorize, case_facts
from portal.cases.loaded import recall, remember, want_keys
from portal.meetings.action_items import (
    ActionItemView,
    _decide_items,
    _DecidedItem,
    _item_entries,
    _key_ids,
    _open_items,
    _rows,
    select_items,
)
from portal.meetings.models import Meeting, MeetingInvitee
from portal.meetings.service import CATEGORIES, MeetingView, _meeting_view, _names
from portal.people.models import Person
from portal.policy import Action, Actor, CaseFacts, Decision, Deny, decide
from portal.vault.service import Vault


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


def _participant_names(db: Session, person_ids: Iterable[str]) -> list[tuple[str, str]]:
    names = dict(db.execute(select(Person.id, Person.display_name)
                            .where(Person.id.in_(list(person_ids)))).all())
    return sorted(names.items(), key=lambda item: item[1])
