"""Autosaved drafts: sealed with their sections' categories and a save counter bound.

The counter is the number of the author's recorded autosaves of the minutes
(the access log is append-only and tamper-evident), so a draft put back to an
older one in the database fails to open instead of coming back; the
sections' categories, which decide who may open the draft, cannot be
widened without the same result.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto import Binding, DecryptionError
from portal.audit.models import AccessRecord
from portal.audit.service import Requester, record
from portal.minutes import forms
from portal.minutes.models import MinutesDraft
from portal.policy import CaseFacts
from portal.vault.service import WITH_ACCESS_FACTS, KeyDestroyed, Vault

log = logging.getLogger("portal.minutes")


def draft_binding(case_id: str, draft: MinutesDraft, counter: int | None = None) -> Binding:
    """Where a draft belongs; with binding 2 also its sections' categories and save counter.

    ``counter`` is the number of recorded autosaves of these minutes by the
    author (``_draft_saves``): the access log is append-only and
    tamper-evident, so an older draft put back in the database carries a
    smaller counter than the log says and fails to open instead of coming back.
    """
    context: tuple[tuple[str, str], ...] = ()
    if draft.binding >= WITH_ACCESS_FACTS:
        sections = ";".join(f"{key}:{categories}" for key, categories in draft.sections or [])
        context = (("sections", sections),
                   ("counter", str(draft.counter if counter is None else counter)))
    return Binding(purpose="minutes-draft", case_id=case_id, object_type="minutes_draft",
                   object_id=draft.id, version=1, field="form", context=context)


def recorded_saves(db: Session, author_id: str, case_id: str, minutes_id: str) -> int:
    """How many autosaves of these minutes by this author the access log holds."""
    return db.scalar(select(func.count()).select_from(AccessRecord).where(
        AccessRecord.event_type == "minutes.draft.save", AccessRecord.outcome == "allowed",
        AccessRecord.user_id == author_id, AccessRecord.case_id == case_id,
        AccessRecord.document_id == minutes_id)) or 0


def open_draft(db: Session, vault: Vault, who: Requester, now: datetime, facts: CaseFacts,
               draft: MinutesDraft) -> list[forms.Slot] | None:
    """The draft's form, or None (recorded) if it fails: damaged, widened or rolled back."""
    expected = recorded_saves(db, draft.author_id, facts.case_id, draft.minutes_id) \
        if draft.binding >= WITH_ACCESS_FACTS else None
    try:
        return forms.from_json(vault.open(db, draft.content_ct,
                                          draft_binding(facts.case_id, draft, expected)))
    except (DecryptionError, KeyDestroyed):
        record(db, who, now, event_type="minutes.draft.open", action="read", outcome="failed",
               reason="decryption_failed", case_id=facts.case_id, child_id=facts.child_id,
               object_type="minutes_draft", object_id=draft.id, document_id=draft.minutes_id)
        log.error("draft %s of minutes %s failed to open", draft.id, draft.minutes_id)
        return None
