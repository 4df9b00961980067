"""Reading one document: its page (a chosen version) and its file's download.

Each read is decided with the document's facts and recorded (``authorize_item``)
before its data key is unwrapped. A key gone after the decision (an erasure
committed in between) and ciphertext that fails authentication are on record
too, and refused. A download is decided, recorded and its key unwrapped in the
request; a failure while the file streams is recorded in a transaction of its
own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crypto import Binding, DecryptionError
from portal.audit.service import Requester, record
from portal.db import unit_of_work
from portal.documents import markdown
from portal.documents.filetypes import type_for
from portal.documents.models import CaseDocument, DocumentKind
from portal.documents.service import (
    _label,
    authorize_item,
    categories_of,
    complete_versions,
    item_facts,
    record_failure,
    version_field,
    version_key,
)
from portal.errors import N_, InvalidInput
from portal.people.models import Person
from portal.policy import Action, Actor, CaseFacts, decide
from portal.vault.service import FieldKey, KeyDestroyed, Vault

log = logging.getLogger("portal.documents")


class ContentDamaged(Exception):
    """Stored ciphertext failed authentication; the failure is on record."""


class DocumentGone(LookupError):
    """Erased between the decision and the unwrap; the failed read is on record."""


class NotAFile(LookupError):
    """The document has no file to download (minutes written in the portal)."""


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
