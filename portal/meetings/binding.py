"""What a meeting's agenda and an action item's text are bound to (issue 16).

The plaintext columns that decide who reads them — an agenda's categories, an
action item's categories and owner — go into the associated data of their
ciphertext (``binding`` 2, as minutes sections and documents do): a database
edit that widens who may read makes the text fail to open instead. The data
key is asked for by the object it was made for (``Vault.key_by_id`` with
``owner``), so a key id copied from another row fails too. Rows sealed before
(``binding`` 1, location only) still open, until ``portal keys rebind``
re-seals them (``rebind_meetings``).

The place is meeting logistics, read by every invitee whatever the agenda's
categories, so it stays bound to its location only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crypto import Binding, DecryptionError, record_dek_id
from portal.audit.service import Requester, record
from portal.db import unit_of_work
from portal.meetings.models import ActionItem, Meeting
from portal.policy import CaseFacts
from portal.vault.service import (
    LOCATION_ONLY,
    WITH_ACCESS_FACTS,
    FieldKey,
    KeyDestroyed,
    Vault,
    access_context,
)


def meeting_field(owner: str, owner_id: str, case_id: str, name: str,
                  context: tuple[tuple[str, str], ...] = ()) -> Binding:
    """Where a meeting's or action item's encrypted field belongs."""
    return Binding(purpose="meeting-field", case_id=case_id, object_type=owner,
                   object_id=owner_id, version=1, field=name, context=context)


def agenda_binding(meeting: Meeting, name: str) -> Binding:
    """A meeting's field (``place`` or ``agenda``); with binding 2 the agenda's
    categories are bound too (and the binding marker itself, through the tag)."""
    context = access_context(",".join(meeting.agenda_categories)) \
        if name == "agenda" and meeting.binding >= WITH_ACCESS_FACTS else ()
    return meeting_field("meeting", meeting.id, meeting.case_id, name, context)


def item_binding(item: ActionItem) -> Binding:
    """An action item's text; with binding 2 its categories and owner are bound too."""
    context = access_context(",".join(item.categories), owner_id=item.owner_id) \
        if item.binding >= WITH_ACCESS_FACTS else ()
    return meeting_field("action_item", item.id, item.case_id, "text", context)


def meeting_key(db: Session, vault: Vault, meeting: Meeting) -> FieldKey:
    """The meeting's data key, only if it was made for this meeting (else DecryptionError)."""
    return vault.key_by_id(db, record_dek_id(meeting.place_ct), owner=("meeting", meeting.id))


def item_key(db: Session, vault: Vault, item: ActionItem) -> FieldKey:
    """The action item's data key, only if it was made for this item."""
    return vault.key_by_id(db, record_dek_id(item.text_ct), owner=("action_item", item.id))


def seal_meeting(vault: Vault, key: FieldKey, meeting: Meeting, *, place: str | None = None,
                 agenda: str) -> None:
    """Seal the agenda (and the place, when given) with binding 2, as the columns are now."""
    meeting.binding = WITH_ACCESS_FACTS
    if place is not None:
        meeting.place_ct = vault.seal(key, place, agenda_binding(meeting, "place"))
    meeting.agenda_ct = vault.seal(key, agenda, agenda_binding(meeting, "agenda"))


def seal_item(vault: Vault, key: FieldKey, item: ActionItem, text: str) -> None:
    item.binding = WITH_ACCESS_FACTS
    item.text_ct = vault.seal(key, text, item_binding(item))


def open_agenda(db: Session, vault: Vault, meeting: Meeting, key: FieldKey) -> str:
    return vault.open(db, meeting.agenda_ct, agenda_binding(meeting, "agenda"), key)


def open_place(db: Session, vault: Vault, meeting: Meeting, key: FieldKey) -> str:
    return vault.open(db, meeting.place_ct, agenda_binding(meeting, "place"), key)


def open_meeting(db: Session, vault: Vault, meeting: Meeting, *, place: bool, agenda: bool
                 ) -> tuple[str | None, str | None, bool]:
    """(place, agenda, damaged): the fields asked for (already decided and recorded);
    a field that does not open is None and ``damaged`` true, never shown."""
    if not (place or agenda):
        return None, None, False
    try:
        key = meeting_key(db, vault, meeting)
    except DecryptionError:  # a key id copied from another object's row
        return None, None, True
    where = open_place(db, vault, meeting, key) if place else None
    try:
        return where, open_agenda(db, vault, meeting, key) if agenda else None, False
    except DecryptionError:
        return where, None, True


def open_item(db: Session, vault: Vault, item: ActionItem) -> str:
    return vault.open(db, item.text_ct, item_binding(item), item_key(db, vault, item))


def record_failed(db: Session, who: Requester, now: datetime, facts: CaseFacts, *,
                  event_type: str, action: str, object_type: str, object_id: str,
                  categories: Iterable[str] = ()) -> None:
    """A read or change that did not open (damaged, or its columns edited in the
    database): withheld or refused, and on record as failed."""
    record(db, who, now, event_type=event_type, action=action, outcome="failed",
           reason="decryption_failed", case_id=facts.case_id, child_id=facts.child_id,
           object_type=object_type, object_id=object_id, data_categories=sorted(categories))


class ItemDamaged(Exception):
    """An action item's text did not open against its columns; on record, unchanged."""


def authentic_item(db: Session, vault: Vault, item: ActionItem) -> bool:
    """Whether the item's categories and owner are the ones its text was sealed with
    (before acting on them: the owner decides who may update it). Nothing is shown."""
    try:
        open_item(db, vault, item)
    except (DecryptionError, KeyDestroyed):
        return False
    return True


# -- portal keys rebind -----------------------------------------------------------

def rebind_meetings(sessions: sessionmaker[Session], vault: Vault,
                    skipped: list[str] | None = None) -> tuple[int, int]:
    """Re-seal every binding-1 agenda and action item with its access facts bound.

    Trusts the columns as they are *now* (run right after ``portal db
    upgrade``); a row that does not open is left as it is and its id goes to
    ``skipped``. Returns (meetings, action items) re-sealed; safe to run again.
    """
    meetings = items = 0
    with unit_of_work(sessions) as db:
        for meeting in db.scalars(select(Meeting).where(Meeting.binding == LOCATION_ONLY,
                                                        Meeting.agenda_ct != b"")).all():
            try:
                with db.begin_nested():
                    key = meeting_key(db, vault, meeting)
                    seal_meeting(vault, key, meeting, agenda=open_agenda(db, vault, meeting, key))
                meetings += 1
            except (DecryptionError, KeyDestroyed):
                if skipped is not None:
                    skipped.append(meeting.id)
        for item in db.scalars(select(ActionItem).where(ActionItem.binding == LOCATION_ONLY,
                                                        ActionItem.text_ct != b"")).all():
            try:
                with db.begin_nested():
                    key = item_key(db, vault, item)
                    seal_item(vault, key, item, open_item(db, vault, item))
                items += 1
            except (DecryptionError, KeyDestroyed):
                if skipped is not None:
                    skipped.append(item.id)
    return meetings, items
