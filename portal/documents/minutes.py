"""Minutes written in the portal: every version sealed under a data key of its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit.service import Requester
from portal.consent.anonymous import Writer, guard_text, record_overrides
from portal.documents.models import (
    CATEGORIES,
    CaseDocument,
    DocumentKind,
    DocumentVersion,
    VersionStatus,
)
from portal.documents.service import (
    TEXT_MAX,
    TITLE_MAX,
    authorize_case,
    authorize_item,
    start_version,
    version_field,
)
from portal.errors import N_, InvalidInput
from portal.policy import Action, Actor, CaseFacts, ItemFacts
from portal.vault.service import Vault
from portal.web.text import check_text


@dataclass(frozen=True)
class MinutesInput:
    title: str
    text: str
    categories: tuple[str, ...]


def validate_minutes(title: str, text: str, categories: list[str] | None) -> MinutesInput:
    """Check a minutes form; ``categories`` None means "keep the document's"."""
    errors: dict[str, str] = {}
    title, text = title.strip(), text.strip()
    if not title:
        errors["title"] = N_("Give the minutes a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = N_("The title is too long.")
    if not text:
        errors["text"] = N_("The minutes are empty.")
    elif len(text) > TEXT_MAX:
        errors["text"] = N_("The minutes are too long.")
    check_text(errors, {"title": title, "text": text}, multiline=("text",))
    if categories is not None and not categories:
        errors["categories"] = N_("Choose at least one data category.")
    if errors:
        raise InvalidInput(errors)
    return MinutesInput(title=title, text=text, categories=tuple(categories or ()))


def create_minutes(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                   case_id: str, title: str, text: str, categories: list[str], *,
                   confirm_identifiers: bool = False) -> str:
    """Write new minutes in a case; returns the new document's id.

    In an anonymous case the title and text go through the identifier check
    first (``IdentifiersFound`` unless the writer confirmed a false positive).
    """
    chosen = [c for c in categories if c in CATEGORIES]
    facts = authorize_case(db, who, actor, now, Action.ITEM_WRITE, case_id,
                           item=ItemFacts(item_type=DocumentKind.MINUTES.value, item_id="",
                                          categories=frozenset(chosen)),
                           event_type="document.create", action_code="create")
    minutes = validate_minutes(title, text, chosen)
    confirmed = _guard(db, vault, Writer(who, actor, facts.case_id), facts, minutes, now,
                       confirm_identifiers)
    document = CaseDocument(case_id=facts.case_id, kind=DocumentKind.MINUTES,
                            categories=",".join(minutes.categories), created_at=now,
                            created_by=actor.person_id)
    db.add(document)
    db.flush()
    _seal_version(db, vault, facts.case_id, document, 1, minutes, actor.person_id, now)
    _record_confirmed(db, facts, document, actor, confirmed, now)
    return document.id


def revise_minutes(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                   case_id: str, document_id: str, title: str, text: str, *,
                   confirm_identifiers: bool = False) -> int:
    """Store a new version of minutes text; earlier versions stay readable. Returns it.

    Replacing what you may not read would let a writer outside the consent scope
    decide what everyone reads next: the read is decided (and recorded) first."""
    authorize_item(db, who, actor, now, Action.ITEM_READ, case_id, document_id,
                   event_type="document.view", action_code="read", vault=vault)
    facts, document = authorize_item(db, who, actor, now, Action.ITEM_WRITE, case_id,
                                     document_id, event_type="document.update",
                                     action_code="update")
    minutes = validate_minutes(title, text, None)
    confirmed = _guard(db, vault, Writer(who, actor, facts.case_id), facts, minutes, now,
                       confirm_identifiers)
    latest = db.scalars(select(DocumentVersion)
                        .where(DocumentVersion.document_id == document.id,
                               DocumentVersion.status == VersionStatus.COMPLETE)
                        .order_by(DocumentVersion.version.desc())).first()
    if document.kind is not DocumentKind.MINUTES or latest is None or latest.text_ct is None:
        raise InvalidInput({"text": N_("Only minutes written in the portal can be edited.")})
    number = (db.scalar(select(func.max(DocumentVersion.version))
                        .where(DocumentVersion.document_id == document.id)) or 0) + 1
    _seal_version(db, vault, facts.case_id, document, number, minutes, actor.person_id, now)
    _record_confirmed(db, facts, document, actor, confirmed, now)
    return number


def _guard(db: Session, vault: Vault, writer: Writer, facts: CaseFacts, minutes: MinutesInput,
           now: datetime, confirmed: bool) -> dict[str, tuple[str, ...]]:
    """Nothing may identify the child in an anonymous case (checked before sealing)."""
    if not facts.anonymous:
        return {}
    return guard_text(db, vault, writer, {"title": minutes.title, "text": minutes.text}, now,
                      confirmed=confirmed)


def _record_confirmed(db: Session, facts: CaseFacts, document: CaseDocument, actor: Actor,
                      confirmed: dict[str, tuple[str, ...]], now: datetime) -> None:
    # The override names the document and field, never the text.
    record_overrides(db, facts.case_id, actor.person_id,
                     {f"document:{document.id}:{field}": kinds
                      for field, kinds in confirmed.items()}, now)


def _seal_version(db: Session, vault: Vault, case_id: str, document: CaseDocument,
                  number: int, minutes: MinutesInput, author: str, now: datetime) -> None:
    version, key = start_version(db, vault, document, number, author, now)
    bound = partial(version_field, case_id, document, version)
    version.title_ct = vault.seal(key, minutes.title, bound("title"))
    version.text_ct = vault.seal(key, minutes.text, bound("text"))
    version.size = len(minutes.text.encode("utf-8"))
    version.status = VersionStatus.COMPLETE
    db.flush()
