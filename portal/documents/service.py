"""Minutes and attachments: their facts, the one gate, and each version's key and fields.

Policy → access record → (de)cryption, for every item. Functions take the
database session first and only ``flush()``; the request boundary commits.
Every read of an item is decided with the item's facts (its data categories)
and recorded before anything is decrypted; a refusal raises ``AccessDenied``
after its record was written. Each document version has its own data key, so
erasing a document destroys exactly its keys.

Built on this module: a case page's documents section
(:mod:`portal.documents.case_documents`), reading one document or its file
(:mod:`portal.documents.reading`) and erasure (:mod:`portal.documents.erasure`);
documents are written by :mod:`portal.documents.minutes` and
:mod:`portal.documents.upload`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import Binding
from portal.audit.service import Requester, record
from portal.cases.gate import case_facts, is_uuid
from portal.db import new_id
from portal.documents.models import CATEGORIES, CaseDocument, DocumentVersion, VersionStatus
from portal.errors import AccessDenied
from portal.policy import Action, Actor, CaseFacts, Decision, Deny, ItemFacts, decide
from portal.vault.service import WITH_ACCESS_FACTS, FieldKey, Vault, document_field

TITLE_MAX = 200
TEXT_MAX = 100_000


# -- facts and the one gate ----------------------------------------------------

def categories_of(document: CaseDocument) -> tuple[str, ...]:
    return tuple(c for c in document.categories.split(",") if c)


def item_facts(document: CaseDocument) -> ItemFacts:
    return ItemFacts(item_type=document.kind.value, item_id=document.id,
                     categories=frozenset(categories_of(document)))


def about(document: CaseDocument, version: int | None = None) -> dict[str, Any]:
    """What an access record names of a document: id, version, data categories."""
    return {"document_id": document.id, "document_version": version,
            "data_categories": categories_of(document)}


def chosen_categories(form: Mapping[str, str]) -> list[str]:
    """The categories ticked in a form (one checkbox ``category_<name>`` each)."""
    return [c for c in CATEGORIES if form.get(f"category_{c}") == "on"]


def authorize_case(db: Session, who: Requester, actor: Actor, now: datetime, action: Action,
                   case_id: str, *, item: ItemFacts | None, event_type: str,
                   action_code: str) -> CaseFacts:
    """Decide and record ``action`` on a case's items (a new item, or items in general)."""
    facts = case_facts(db, case_id, None, now)
    decision = decide(actor, action, facts, item) if facts else \
        Deny(reason="no_such_case", hide=True)
    record(db, who, now, event_type=event_type, action=action_code, decision=decision,
           case_id=facts.case_id if facts else None,
           child_id=facts.child_id if facts else None, object_type="case",
           object_id=case_id if is_uuid(case_id) else None,
           data_categories=sorted(item.categories) if item else ())
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    assert facts is not None
    return facts


def authorize_item(db: Session, who: Requester, actor: Actor, now: datetime, action: Action,
                   case_id: str, document_id: str, *, event_type: str, action_code: str,
                   vault: Vault | None = None,
                   version: int | None = None) -> tuple[CaseFacts, CaseDocument]:
    """The one gate for a single document: decide with its facts, record, refuse or return.

    Reading needs the consent facts, so readers pass the ``vault``. An unknown
    document is decided as "this case in general" first (viewing the case for
    reads), so a participant whose role forbids the action gets 403 either way
    and nobody learns which document ids exist. The record names the version
    acted on: ``version`` when it exists, else the latest complete one.
    """
    facts = case_facts(db, case_id, vault, now)
    document = db.get(CaseDocument, document_id) if facts and is_uuid(document_id) else None
    if document is not None and facts is not None and document.case_id != facts.case_id:
        document = None
    if facts is None:
        decision: Decision = Deny(reason="no_such_case", hide=True)
    elif document is not None:
        decision = decide(actor, action, facts, item_facts(document))
    else:
        general = Action.CASE_VIEW if action is Action.ITEM_READ else action
        decision = decide(actor, general, facts)
        if decision.allowed:
            decision = Deny(reason="no_such_document", hide=True)
    record(db, who, now, event_type=event_type, action=action_code, decision=decision,
           case_id=facts.case_id if facts else None,
           child_id=facts.child_id if facts else None,
           object_type=document.kind.value if document else "document",
           object_id=document_id if is_uuid(document_id) else None,
           **(about(document, _version_number(db, document, version)) if document else {}))
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    assert facts is not None and document is not None
    return facts, document


def _version_number(db: Session, document: CaseDocument, wanted: int | None) -> int | None:
    numbers = [v.version for v in complete_versions(db, [document.id]).get(document.id, [])]
    if wanted in numbers:
        return wanted
    return numbers[-1] if numbers else None


def authorize_write_form(db: Session, who: Requester, actor: Actor, now: datetime,
                         case_id: str) -> CaseFacts:
    """May the actor write items in this case (shows the minutes form)?"""
    return authorize_case(db, who, actor, now, Action.ITEM_WRITE, case_id, item=None,
                          event_type="document.create.form", action_code="read")


def record_failure(db: Session, who: Requester, now: datetime, facts: CaseFacts,
                   document: CaseDocument | None, kind: str, *, event_type: str,
                   action_code: str, reason: str, version: int | None = None) -> None:
    record(db, who, now, event_type=event_type, action=action_code, outcome="failed",
           reason=reason, case_id=facts.case_id, child_id=facts.child_id, object_type=kind,
           object_id=document.id if document else None,
           **(about(document, version) if document else {}))


def start_version(db: Session, vault: Vault, document: CaseDocument, number: int,
                  author: str, now: datetime) -> tuple[DocumentVersion, FieldKey]:
    """A pending version with a fresh data key of its own; the caller fills and completes it."""
    version = DocumentVersion(id=new_id(), document_id=document.id, version=number,
                              status=VersionStatus.PENDING, created_at=now, created_by=author,
                              size=0, segment_count=0, binding=WITH_ACCESS_FACTS)
    key = vault.new_key(db, "document_version", version.id, now)
    version.data_key_id = key.id
    db.add(version)
    db.flush()
    return version, key


def version_field(case_id: str, document: CaseDocument, version: DocumentVersion,
                  name: str) -> Binding:
    """Where a version's field belongs; from binding 2 on with the document's categories.

    A version sealed with binding 2 fails to open when the categories column
    was edited, and also when its ``binding`` column is set back to 1: the
    older associated data differs, so a downgrade cannot switch the check off.
    """
    categories = document.categories if version.binding >= WITH_ACCESS_FACTS else None
    return document_field(case_id, document.kind.value, document.id, version.version, name,
                          categories)


def version_key(db: Session, vault: Vault, version: DocumentVersion) -> FieldKey:
    """The version's data key, refused (``KeyMismatch``) if made for another object."""
    return vault.key_by_id(db, version.data_key_id, owner=("document_version", version.id))


# -- reading -------------------------------------------------------------------

def complete_versions(db: Session, document_ids: Iterable[str]
                      ) -> dict[str, list[DocumentVersion]]:
    """Each document's complete versions, oldest first, in one query."""
    found: dict[str, list[DocumentVersion]] = {}
    rows = db.scalars(select(DocumentVersion)
                      .where(DocumentVersion.document_id.in_(list(document_ids)),
                             DocumentVersion.status == VersionStatus.COMPLETE)
                      .order_by(DocumentVersion.version))
    for version in rows:
        found.setdefault(version.document_id, []).append(version)
    return found


def _label(vault: Vault, db: Session, facts: CaseFacts, document: CaseDocument,
           version: DocumentVersion, key: FieldKey | None = None) -> str:
    """A document's name in lists: the minutes' title, else the file name."""
    key = key or version_key(db, vault, version)
    field = "title" if version.title_ct is not None else "filename"
    blob = version.title_ct if version.title_ct is not None else version.filename_ct
    assert blob is not None
    return vault.open(db, blob, version_field(facts.case_id, document, version, field), key)
