"""Minutes and attachments: policy → access record → (de)cryption, for every item.

Functions take the database session first and only ``flush()``; the request
boundary commits. Every read of an item is decided with the item's facts
(its data categories) and recorded before anything is decrypted; a refusal
raises ``AccessDenied`` after its record was written. Each document version
has its own data key, so erasing a document destroys exactly its keys.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from crypto import Binding, DecryptionError
from portal.audit.models import AccessRecord
from portal.audit.service import Requester, entry, record, record_all
from portal.cases.gate import case_facts, is_uuid
from portal.cases.loaded import recall, remember, want_keys
from portal.db import new_id, unit_of_work
from portal.documents import markdown
from portal.documents.filetypes import type_for
from portal.documents.garbage import queue_objects
from portal.documents.models import (
    CATEGORIES,
    CaseDocument,
    DocumentErasure,
    DocumentKind,
    DocumentSegment,
    DocumentVersion,
    VersionStatus,
)
from portal.errors import N_, AccessDenied, InvalidInput
from portal.people.models import Person
from portal.policy import Action, Actor, CaseFacts, Decision, Deny, ItemFacts, decide
from portal.vault.models import DataKey
from portal.vault.service import (
    WITH_ACCESS_FACTS,
    FieldKey,
    KeyDestroyed,
    Vault,
    document_field,
    hold_keys,
    secure_delete,
)

log = logging.getLogger("portal.documents")

TITLE_MAX = 200
TEXT_MAX = 100_000


class ContentDamaged(Exception):
    """Stored ciphertext failed authentication; the failure is on record."""


class DocumentGone(LookupError):
    """Erased between the decision and the unwrap; the failed read is on record."""


class NotAFile(LookupError):
    """The document has no file to download (minutes written in the portal)."""


@dataclass(frozen=True)
class DocumentSummary:
    id: str
    kind: DocumentKind
    title: str | None  # None: could not be decrypted (see ``damaged``)
    categories: tuple[str, ...]
    version: int
    size: int
    is_file: bool
    created_at: datetime
    updated_at: datetime
    damaged: bool = False


@dataclass(frozen=True)
class ErasureView:
    kind: DocumentKind
    categories: tuple[str, ...]
    versions: int
    created_at: datetime
    erased_at: datetime
    erased_by: str


@dataclass(frozen=True)
class CaseDocuments:
    """The documents section of a case page."""

    case_id: str
    documents: list[DocumentSummary]
    erasures: list[ErasureView]
    can_write: bool
    can_erase: bool
    categories: tuple[str, ...] = CATEGORIES
    # Items the viewer may not read: only their number, from the same recorded decisions.
    hidden: int = 0


@dataclass(frozen=True)
class VersionInfo:
    version: int
    created_at: datetime
    created_by: str
    size: int


@dataclass(frozen=True)
class DocumentView:
    id: str
    case_id: str
    kind: DocumentKind
    categories: tuple[str, ...]
    version: int
    title: str | None
    text: str | None
    text_html: Markup | None
    filename: str | None
    size: int
    versions: list[VersionInfo]
    can_revise: bool
    can_erase: bool


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


def case_documents(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                   case_id: str, facts: CaseFacts | None = None) -> CaseDocuments:
    """The case's documents the actor may read (each decided and recorded), and erasures.

    ``facts``: the case page's own (with consent, at ``now``), reused. When the case
    page decided its documents ahead (``plan_case_page``), their records are written
    already and are not written again."""
    if facts is None or facts.case_id != case_id or facts.now != now:
        facts = case_facts(db, case_id, vault, now)
    plan = recall(db, _plan_key(case_id, now, actor, who)) if facts is not None else None
    if not isinstance(plan, _DocumentsPlan):
        plan = _plan_documents(db, actor, facts)
        record_all(db, _document_entries(who, now, plan))
    # The section belongs to the case page: nothing at all unless the case may be seen.
    if plan.facts is None or not plan.visible:
        return CaseDocuments(case_id=case_id, documents=[], erasures=[], can_write=False,
                             can_erase=False)
    facts, documents, versions, decisions = \
        plan.facts, plan.documents, plan.versions, plan.decisions
    vault.preload(db, (versions[d.id][-1].data_key_id for d in documents
                       if decisions[d.id].allowed))
    summaries = []
    hidden = 0
    for document in documents:
        history = versions[document.id]
        decision = decisions[document.id]
        if not decision.allowed:
            hidden += 1
            continue
        latest = history[-1]
        try:
            title: str | None = _label(vault, db, facts, document, latest)
        except (DecryptionError, KeyDestroyed):
            title = None
            record_failure(db, who, now, facts, document, document.kind.value,
                           event_type="document.list", action_code="read",
                           reason="decryption_failed", version=latest.version)
        summaries.append(DocumentSummary(
            id=document.id, kind=document.kind, title=title, categories=categories_of(document),
            version=latest.version, size=latest.size, is_file=latest.segment_count > 0,
            created_at=document.created_at, updated_at=latest.created_at,
            damaged=title is None))
    return CaseDocuments(
        case_id=facts.case_id, documents=summaries, erasures=_erasures(db, facts.case_id),
        can_write=decide(actor, Action.ITEM_WRITE, facts).allowed,
        can_erase=decide(actor, Action.ITEM_ERASE, facts).allowed, hidden=hidden)


@dataclass(frozen=True)
class _DocumentsPlan:
    """A case's documents decided, their rows loaded, nothing recorded or decrypted yet."""

    facts: CaseFacts | None
    visible: bool
    documents: list[CaseDocument] = field(default_factory=list)
    versions: dict[str, list[DocumentVersion]] = field(default_factory=dict)
    decisions: dict[str, Decision] = field(default_factory=dict)


def _plan_key(case_id: str, now: datetime, actor: Actor, who: Requester) -> Hashable:
    return ("documents plan", case_id, now, actor.person_id, who)


def _plan_documents(db: Session, actor: Actor, facts: CaseFacts | None) -> _DocumentsPlan:
    if facts is None or not decide(actor, Action.CASE_VIEW, facts).allowed:
        return _DocumentsPlan(facts, visible=False)
    documents, versions = _documents_with_versions(db, facts.case_id)
    decisions = {d.id: decide(actor, Action.ITEM_READ, facts, item_facts(d)) for d in documents}
    return _DocumentsPlan(facts, True, documents, versions, decisions)


def _document_entries(who: Requester, now: datetime,
                      plan: _DocumentsPlan) -> list[AccessRecord]:
    """Every listed document's record, written in one go before any title is decrypted."""
    facts = plan.facts
    if facts is None:
        return []
    return [entry(who, now, event_type="document.list", action="read",
                  decision=plan.decisions[d.id], case_id=facts.case_id,
                  child_id=facts.child_id, object_type=d.kind.value, object_id=d.id,
                  **about(d, plan.versions[d.id][-1].version)) for d in plan.documents]


def plan_case_page(db: Session, who: Requester, actor: Actor, now: datetime,
                   facts: CaseFacts) -> list[AccessRecord]:
    """The documents of a case page decided ahead of the page's read: the records to
    write with it. ``case_documents`` with the same ``who`` then shows what was
    decided, in this transaction, without recording again."""
    plan = _plan_documents(db, actor, facts)
    remember(db, _plan_key(facts.case_id, now, actor, who), plan)
    want_keys(db, (plan.versions[d.id][-1].data_key_id for d in plan.documents
                   if plan.decisions[d.id].allowed))
    return _document_entries(who, now, plan)


def _documents_with_versions(db: Session, case_id: str
                             ) -> tuple[list[CaseDocument], dict[str, list[DocumentVersion]]]:
    """The case's documents, newest first, each with its complete versions (oldest
    first), in one query. A document with nothing complete (which cannot outlive its
    transaction) is skipped, belt and braces."""
    documents: dict[str, CaseDocument] = {}
    versions: dict[str, list[DocumentVersion]] = {}
    # Each version's wrapped key comes along, held for this transaction: unwrapped only
    # when a version readable on its recorded decision is opened.
    for document, version, key in db.execute(
            select(CaseDocument, DocumentVersion, DataKey)
            .join(DocumentVersion, (DocumentVersion.document_id == CaseDocument.id)
                  & (DocumentVersion.status == VersionStatus.COMPLETE))
            .outerjoin(DataKey, DataKey.id == DocumentVersion.data_key_id)
            .where(CaseDocument.case_id == case_id)
            .order_by(CaseDocument.created_at.desc(), CaseDocument.id,
                      DocumentVersion.version)):
        documents.setdefault(document.id, document)
        versions.setdefault(document.id, []).append(version)
        hold_keys(db, (key,))
    return list(documents.values()), versions


def _erasures(db: Session, case_id: str) -> list[ErasureView]:
    rows = db.execute(select(DocumentErasure, Person.display_name)
                      .join(Person, Person.id == DocumentErasure.erased_by)
                      .where(DocumentErasure.case_id == case_id)
                      .order_by(DocumentErasure.erased_at.desc())).all()
    return [ErasureView(kind=e.kind, categories=tuple(c for c in e.categories.split(",") if c),
                        versions=e.versions, created_at=e.created_at, erased_at=e.erased_at,
                        erased_by=name) for e, name in rows]


def view_document(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                  case_id: str, document_id: str, version: int | None = None) -> DocumentView:
    facts, document = authorize_item(db, who, actor, now, Action.ITEM_READ, case_id,
                                     document_id, event_type="document.view",
                                     action_code="read", vault=vault, version=version)
    history = complete_versions(db, [document.id]).get(document.id, [])
    chosen = next((v for v in history if v.version == version), None) if version else \
        (history[-1] if history else None)
    if chosen is None:
        raise InvalidInput({"version": N_("This version does not exist.")})
    names = dict(db.execute(select(Person.id, Person.display_name).where(
        Person.id.in_({v.created_by for v in history}))).all())

    def bound(field: str) -> Binding:
        return version_field(facts.case_id, document, chosen, field)

    try:
        key = version_key(db, vault, chosen)
    except KeyDestroyed:
        raise _gone(db, who, now, facts, document, chosen.version, "document.view") from None
    except DecryptionError:
        record_failure(db, who, now, facts, document, document.kind.value,
                       event_type="document.view", action_code="read",
                       reason="decryption_failed", version=chosen.version)
        raise ContentDamaged(document.id) from None
    try:
        title = _open(vault, db, chosen.title_ct, bound("title"), key)
        text = _open(vault, db, chosen.text_ct, bound("text"), key)
        filename = _open(vault, db, chosen.filename_ct, bound("filename"), key)
    except DecryptionError:
        record_failure(db, who, now, facts, document, document.kind.value,
                       event_type="document.view", action_code="read",
                       reason="decryption_failed", version=chosen.version)
        raise ContentDamaged(document.id) from None
    return DocumentView(
        id=document.id, case_id=facts.case_id, kind=document.kind,
        categories=categories_of(document), version=chosen.version, title=title, text=text,
        text_html=markdown.render(text) if text is not None else None, filename=filename,
        size=chosen.size,
        versions=[VersionInfo(v.version, v.created_at, names.get(v.created_by, "?"), v.size)
                  for v in reversed(history)],
        can_revise=text is not None and decide(actor, Action.ITEM_WRITE, facts,
                                               item_facts(document)).allowed,
        can_erase=decide(actor, Action.ITEM_ERASE, facts, item_facts(document)).allowed)


def _gone(db: Session, who: Requester, now: datetime, facts: CaseFacts,
          document: CaseDocument, version: int, event_type: str) -> DocumentGone:
    """The key went after the decision (an erasure committed in between): on record, 404."""
    record_failure(db, who, now, facts, document, document.kind.value, event_type=event_type,
                   action_code="read", reason="erased", version=version)
    log.info("document %s was erased during the request", document.id)
    return DocumentGone(document.id)


def _open(vault: Vault, db: Session, blob: bytes | None, binding: Binding,
          key: FieldKey) -> str | None:
    return None if blob is None else vault.open(db, blob, binding, key)


@dataclass(frozen=True)
class Download:
    """What streaming a file needs, decided, recorded and unwrapped in the request."""

    case_id: str
    child_id: str | None
    document_id: str
    kind: str
    categories: tuple[str, ...]
    version: int
    version_id: str
    filename: str = field(repr=False)  # encrypted at rest: keep it out of logs too
    media_type: str
    size: int
    segments: int
    segment_size: int
    dek: bytes = field(repr=False)
    associated_data: bytes
    blob_store: str | None = None  # None: segment rows (before migration 0036)
    blob_name: str | None = None


def open_download(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                  case_id: str, document_id: str) -> Download:
    """Decide, record and prepare the download of a document's latest file."""
    facts, document = authorize_item(db, who, actor, now, Action.ITEM_READ, case_id,
                                     document_id, event_type="document.download",
                                     action_code="read", vault=vault)
    history = complete_versions(db, [document.id]).get(document.id, [])
    latest = history[-1] if history else None
    if latest is None or latest.segment_count == 0 or latest.segment_size is None:
        raise NotAFile(document.id)
    try:
        key = version_key(db, vault, latest)
    except KeyDestroyed:
        raise _gone(db, who, now, facts, document, latest.version, "document.download") \
            from None
    except DecryptionError:
        key = None
    try:
        if key is None:
            raise DecryptionError("data key of another object")
        filename = _label(vault, db, facts, document, latest, key)
    except DecryptionError:
        record_failure(db, who, now, facts, document, document.kind.value,
                       event_type="document.download", action_code="read",
                       reason="decryption_failed", version=latest.version)
        raise ContentDamaged(document.id) from None
    file_type = type_for(filename)
    return Download(
        case_id=facts.case_id, child_id=facts.child_id, document_id=document.id,
        kind=document.kind.value, categories=categories_of(document), version=latest.version,
        version_id=latest.id, filename=filename,
        media_type=file_type.media_type if file_type else "application/octet-stream",
        size=latest.size, segments=latest.segment_count, segment_size=latest.segment_size,
        dek=key.dek,
        associated_data=version_field(facts.case_id, document, latest, "content").encode(),
        blob_store=latest.blob_store, blob_name=latest.blob_name)


def record_download_failure(sessions: sessionmaker[Session], who: Requester, now: datetime,
                            download: Download, *, db: Session | None = None,
                            reason: str = "decryption_failed") -> None:
    """A download failed authentication mid-stream: on record, in a transaction of its own
    (or in the request's ``db``, when it failed before anything was sent)."""
    if db is not None:
        _record_download_failure(db, who, now, download, reason)
        return
    with unit_of_work(sessions) as tx:
        _record_download_failure(tx, who, now, download, reason)


def _record_download_failure(db: Session, who: Requester, now: datetime,
                             download: Download, reason: str) -> None:
    record(db, who, now, event_type="document.download", action="read", outcome="failed",
           reason=reason, case_id=download.case_id,
           child_id=download.child_id, object_type=download.kind,
           object_id=download.document_id, document_id=download.document_id,
           document_version=download.version, data_categories=download.categories)
    log.error("download of document %s aborted: %s", download.document_id, reason)


# -- erasure (crypto-shredding) ------------------------------------------------

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
