"""Anonymous cases: the identifier check before saving, and conversion to a named case.

Any text written into an anonymous case goes through :func:`guard_text` before
it is saved (the case's title and purpose here; minutes and notes call it from
the documents' service). The names of the children registered in the portal
are encrypted, so they are decrypted here, for the check only, and never shown.

Only the children the writer's own organisations may see (their pupils: the
school's own children and those enrolled on its register) are matched, plus
the generic patterns (BSN, e-mail, phone, date of birth, postcode): a finding
must never tell a writer that a name belongs to a registered child they could
not otherwise see. The check itself is an access record (``child.name_check``,
no names, no text), written before any name is decrypted: no record, no check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.consent.access import local_date
from portal.consent.identifiers import Finding, find_identifiers, name_patterns
from portal.consent.models import IdentifierOverride
from portal.errors import N_, InvalidInput
from portal.people.models import Child, Enrolment
from portal.policy import Actor
from portal.vault.service import Vault, child_field

FOUND_MESSAGE = N_("This text may identify a child. Remove what is marked, or confirm that "
                   "it does not identify anyone.")


class IdentifiersFound(InvalidInput):
    """Text for an anonymous case holds what may identify a child; nothing was saved."""

    def __init__(self, findings: Mapping[str, Sequence[Finding]]) -> None:
        super().__init__(dict.fromkeys(findings, FOUND_MESSAGE))
        self.findings = {field: list(found) for field, found in findings.items()}


@dataclass(frozen=True)
class Writer:
    """Who writes the text, as the check records them; ``case_id`` once the case exists."""

    who: Requester
    actor: Actor
    case_id: str | None = None


def visible_children(db: Session, actor: Actor) -> list[Child]:
    """The children the actor's own organisations may see: their pupils and enrolments."""
    organisations = sorted(actor.organisation_ids)
    if not organisations:
        return []
    enrolled = select(Enrolment.child_id).where(Enrolment.organisation_id.in_(organisations))
    return list(db.scalars(select(Child).where(
        or_(Child.school_id.in_(organisations), Child.id.in_(enrolled))).order_by(Child.id)))


def registered_names(db: Session, vault: Vault, writer: Writer,
                     now: datetime) -> list[re.Pattern[str]]:
    """Patterns for the names of the children the writer's organisations may see.

    The check is recorded first; if the record cannot be written this raises
    and nothing is decrypted.
    """
    children = visible_children(db, writer.actor)
    record(db, writer.who, now, event_type="child.name_check", action="read",
           outcome="allowed", case_id=writer.case_id, object_type="child_names")
    names = [vault.open(db, child.name_ct, child_field(child.id, "name"))
             for child in children]
    return name_patterns(names)


def check_texts(db: Session, vault: Vault, writer: Writer, texts: Mapping[str, str],
                now: datetime) -> dict[str, list[Finding]]:
    """Per field, what may identify a child (fields without findings are left out)."""
    if not any(texts.values()):
        return {}
    names = registered_names(db, vault, writer, now)
    today = local_date(now)
    found = {field: find_identifiers(text, names, today) for field, text in texts.items()}
    return {field: items for field, items in found.items() if items}


def guard_text(db: Session, vault: Vault, writer: Writer, texts: Mapping[str, str],
               now: datetime, *, confirmed: bool) -> dict[str, tuple[str, ...]]:
    """Refuse text with identifiers unless the writer confirmed a false positive.

    Returns, per field, the kinds that were confirmed, for :func:`record_overrides`
    once the case (or item) exists; raises :class:`IdentifiersFound` otherwise.
    """
    found = check_texts(db, vault, writer, texts, now)
    if found and not confirmed:
        raise IdentifiersFound(found)
    return {field: tuple(sorted({f.kind for f in items})) for field, items in found.items()}


def record_overrides(db: Session, case_id: str, person_id: str,
                     confirmed: Mapping[str, Sequence[str]], now: datetime) -> None:
    """Keep on record that the writer confirmed false positives (the kinds, not the text)."""
    for field, kinds in confirmed.items():
        db.add(IdentifierOverride(case_id=case_id, person_id=person_id, field=field,
                                  kinds=list(kinds), confirmed_at=now))
    db.flush()
