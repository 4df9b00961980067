"""Action items: what someone will do for a case, and by when.

Every read and write goes through the case's policy decision and leaves an
access record. An item's text is encrypted under a data key of its own and
carries the data categories chosen with it (nothing is pre-chosen); it is read
only on its own item-level decision (``ITEM_READ``, with the case's consent
facts). A list decides all its items first and writes their records in one go
before any text is decrypted; the items the reader may not read are only
counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from crypto import DecryptionError, record_dek_id
from portal.audit.models import AccessRecord
from portal.audit.service import Requester, entry, record, record_all
from portal.cases.gate import authorize, case_facts, is_uuid
from portal.consent.status import ordered_categories
from portal.errors import N_, AccessDenied, InvalidInput
from portal.meetings import anonymity
from portal.meetings.binding import (
    ItemDamaged,
    authentic_item,
    open_item,
    record_failed,
    seal_item,
)
from portal.meetings.models import ActionItem, ActionItemStatus
from portal.meetings.service import TEXT_MAX, parse_categories, refuse_unreadable
from portal.notifications import events as notifications
from portal.people.models import Person
from portal.policy import Action, Actor, CaseFacts, Decision, Deny, ItemFacts, decide
from portal.vault.models import DataKey
from portal.vault.service import Vault, hold_keys
from portal.web.text import check_text


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
