"""Erasing documents by crypto-shredding: their data keys destroyed, their ciphertext deleted.

One document, or every document of a case the actor may erase (each decided and
recorded on its own). What stays is only what was erased, when and by whom
(``DocumentErasure``); objects in a blob store are deleted after the commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.documents.garbage import queue_objects
from portal.documents.models import CaseDocument, DocumentErasure, DocumentSegment, DocumentVersion
from portal.documents.service import about, authorize_case, authorize_item, item_facts
from portal.errors import N_, InvalidInput
from portal.policy import Action, Actor, decide
from portal.vault.service import Vault, secure_delete


def _confirm(confirmed: bool) -> None:
    if not confirmed:
        raise InvalidInput({"confirm": N_("Confirm that the erasure cannot be undone.")})


def erase_document(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                   case_id: str, document_id: str, *, confirmed: bool) -> None:
    _, document = authorize_item(db, who, actor, now, Action.ITEM_ERASE, case_id, document_id,
                                 event_type="document.erase", action_code="delete")
    _confirm(confirmed)
    shred(db, vault, document, actor.person_id, now)


def erase_case_documents(db: Session, vault: Vault, who: Requester, actor: Actor,
                         now: datetime, case_id: str, *, confirmed: bool) -> int:
    """Erase every document of a case the actor may erase; returns how many."""
    facts = authorize_case(db, who, actor, now, Action.ITEM_ERASE, case_id, item=None,
                           event_type="case.documents.erase", action_code="delete")
    _confirm(confirmed)
    erased = 0
    for document in db.scalars(select(CaseDocument)
                               .where(CaseDocument.case_id == facts.case_id)).all():
        decision = decide(actor, Action.ITEM_ERASE, facts, item_facts(document))
        record(db, who, now, event_type="document.erase", action="delete", decision=decision,
               case_id=facts.case_id, child_id=facts.child_id,
               object_type=document.kind.value, object_id=document.id, **about(document))
        if decision.allowed:
            shred(db, vault, document, actor.person_id, now)
            erased += 1
    return erased


def shred(db: Session, vault: Vault, document: CaseDocument, erased_by: str,
          now: datetime) -> None:
    """Destroy a document's data keys and ciphertext; keep only what was erased, when, by whom."""
    versions = db.scalars(select(DocumentVersion)
                          .where(DocumentVersion.document_id == document.id)).all()
    secure_delete(db)
    version_ids = [v.id for v in versions]
    db.execute(delete(DocumentSegment).where(DocumentSegment.version_id.in_(version_ids)))
    queue_objects(db, versions, now)  # deleted after this commit, the key already gone
    db.execute(delete(DocumentVersion).where(DocumentVersion.id.in_(version_ids)))
    db.add(DocumentErasure(case_id=document.case_id, document_id=document.id,
                           kind=document.kind, categories=document.categories,
                           versions=len(versions), created_at=document.created_at,
                           erased_at=now, erased_by=erased_by))
    db.delete(document)
    db.flush()
    vault.destroy(db, [v.data_key_id for v in versions], now)
