"""A case page's documents section: the documents the reader may read, and the erasures.

Each document is decided with its own facts. The case page decides them ahead
of its own read (``plan_case_page``), so their records go in with the page's,
in one insert, before any title is decrypted; ``case_documents`` then shows
what was decided, or, called on its own, decides and records itself. Documents
the reader may not read are only counted.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import DecryptionError
from portal.audit.models import AccessRecord
from portal.audit.service import Requester, entry, record_all
from portal.cases.gate import case_facts
from portal.cases.loaded import recall, remember, want_keys
from portal.documents.models import (
    CATEGORIES,
    CaseDocument,
    DocumentErasure,
    DocumentKind,
    DocumentVersion,
    VersionStatus,
)
from portal.documents.service import _label, about, categories_of, item_facts, record_failure
from portal.people.models import Person
from portal.policy import Action, Actor, CaseFacts, Decision, decide
from portal.vault.models import DataKey
from portal.vault.service import KeyDestroyed, Vault, hold_keys


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
