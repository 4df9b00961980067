"""Erasing a whole case: crypto-shredding of everything it holds.

Every data key the case owns goes -- the case's own (title, purpose, and the
safety exception's reasons sealed under it), each meeting's (place, agenda),
each action item's, each document version's, every key of the structured
minutes (versions, sections, drafts, corrections) -- and the ciphertexts with them.
What stays: the case row with ids, dates, status and the erasure (when, by
whom, what), its participants, the consent records (who consented to what is
evidence), and every access record (they never held content). The erasure
itself is recorded (action E) before anything is destroyed, in the same
transaction: either all of it happens and is on record, or none of it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from portal.audit.service import Requester
from portal.cases.gate import authorize
from portal.cases.models import Case
from portal.consent.models import BreakGlassGrant
from portal.documents.erasure import shred
from portal.documents.models import CaseDocument
from portal.errors import N_, InvalidInput
from portal.meetings.models import ActionItem, Meeting
from portal.minutes.erasure import shred_case_minutes
from portal.policy import Action, Actor
from portal.retention.holds import on_hold
from portal.rights.models import FamilyStatement, Objection, RestrictionNote
from portal.search import index as search_index
from portal.vault.models import DataKey
from portal.vault.service import Vault, secure_delete


def erase_case(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
               case_id: str, *, confirmed: bool) -> dict[str, int]:
    """Erase everything the case holds; returns how many of each kind went."""
    facts = authorize(db, who, actor, now, Action.CASE_ERASE, case_id,
                      event_type="case.erase", action_code="execute")
    if not confirmed:
        raise InvalidInput({"confirm": N_("Confirm that the erasure cannot be undone.")})
    case = db.get_one(Case, facts.case_id)
    if on_hold(db, case.id, case.child_id):
        raise InvalidInput({"hold": N_("A legal hold keeps this case: the data protection "
                                       "officer must lift it before it can be erased.")})
    return shred_case(db, vault, case, now, erased_by=actor.person_id,
                      role=who.user_role,
                      organisation_id=facts.participant_organisations.get(
                          actor.person_id, who.organisation_id))


def shred_case(db: Session, vault: Vault, case: Case, now: datetime, *, erased_by: str,
               role: str | None, organisation_id: str | None) -> dict[str, int]:
    """Crypto-shred everything ``case`` holds and note on it when, by whom and what went.

    The caller has decided and recorded the erasure (a chair's ``erase_case``, the
    retention job) in this same transaction; ``erased_by`` is the person answerable
    for it. Nothing is committed here: a failure before the commit leaves the case whole.
    """
    secure_delete(db)
    documents = db.scalars(select(CaseDocument).where(CaseDocument.case_id == case.id)).all()
    for document in documents:
        shred(db, vault, document, erased_by, now)
    minutes = shred_case_minutes(db, vault, case.id)
    meetings = list(db.scalars(select(Meeting.id).where(Meeting.case_id == case.id)))
    items = list(db.scalars(select(ActionItem.id).where(ActionItem.case_id == case.id)))
    keys = list(db.scalars(select(DataKey.id).where(or_(
        and_(DataKey.owner_type == "case", DataKey.owner_id == case.id),
        and_(DataKey.owner_type == "meeting", DataKey.owner_id.in_(meetings)),
        and_(DataKey.owner_type == "action_item", DataKey.owner_id.in_(items))))))
    # The ciphertexts go too (the columns are NOT NULL: emptied, not nulled).
    empty = {"synchronize_session": False}
    db.execute(update(Meeting).where(Meeting.case_id == case.id)
               .values(place_ct=b"", agenda_ct=b"").execution_options(**empty))
    db.execute(update(ActionItem).where(ActionItem.case_id == case.id)
               .values(text_ct=b"").execution_options(**empty))
    db.execute(update(BreakGlassGrant).where(BreakGlassGrant.case_id == case.id)
               .values(reason_ct=b"").execution_options(**empty))
    # The family's rights (portal.rights): reasons, decisions and statements under the case key.
    db.execute(update(RestrictionNote).where(RestrictionNote.case_id == case.id)
               .values(reason_ct=b"", lift_reason_ct=None).execution_options(**empty))
    db.execute(update(Objection).where(Objection.case_id == case.id)
               .values(reason_ct=b"", decision_ct=None).execution_options(**empty))
    db.execute(update(FamilyStatement).where(FamilyStatement.case_id == case.id)
               .values(text_ct=b"").execution_options(**empty))
    summary = {"documents": len(documents), "minutes": minutes, "meetings": len(meetings),
               "action_items": len(items)}
    case.title_ct = case.purpose_ct = b""
    search_index.drop_case(db, case.id)
    case.erased_at = now
    case.erased_by = erased_by
    case.erased_by_role = role
    case.erased_by_organisation_id = organisation_id
    case.erased_summary = ";".join(f"{k}={v}" for k, v in summary.items())
    db.flush()
    vault.destroy(db, keys, now)
    return summary
