"""What the case page and the parent view show about consent, built from loaded facts.

No authorization here: callers have already decided and recorded the access to
the case; this module only reads labels (organisation names, people's display
names) and runs the pure status computation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.cases.loaded import load_case, remembered
from portal.cases.models import CaseParticipant
from portal.consent.access import ConsentFacts
from portal.consent.engine import CHILD, Basis, Relation, resolve_custody
from portal.consent.facts import (
    case_grants,
    case_options,
    child_adults,
    consent_records,
    organisation_options,
)
from portal.consent.status import Cell, ConsentStatus, consent_status
from portal.people.models import Membership, Organisation
from portal.people.names import names_of
from portal.policy import Action, Actor, CaseFacts, ItemFacts, decide
from portal.vault.service import Vault


@dataclass(frozen=True)
class Label:
    value: str  # the recipient as stored: org:<id>, role:<role>, adult:<id>, person:<id>
    kind: str  # org / role / adult / person
    name: str  # an organisation's or person's name; the role's value for roles


@dataclass(frozen=True)
class CategoryAccess:
    category: str
    allowed: bool
    reason: str  # the deny reason code, empty when allowed


@dataclass(frozen=True)
class GrantView:
    id: str
    person_name: str
    granted_at: datetime
    expires_at: datetime
    active: bool


@dataclass(frozen=True)
class ConsentSummary:
    status: ConsentStatus
    labels: dict[str, Label]  # recipient value -> label
    names: dict[str, str]  # consenter id (person id or CHILD) -> display name
    your_access: tuple[CategoryAccess, ...]  # empty for the family
    show_change: bool  # the chair sees "new consent needed" ahead of time
    grants: tuple[GrantView, ...]
    # Who still has to consent (required consenter id, the categories not yet covered
    # for an organisation taking part): the case banner and the family's "still to consent".
    outstanding: tuple[tuple[str, tuple[str, ...]], ...] = ()


def labels_for(db: Session, vault: Vault, values: Iterable[str], *,
               case_id: str | None = None, child_id: str | None = None) -> dict[str, Label]:
    """``case_id``, ``child_id``: the names of the case's organisations taking part and
    of the child's adults as this transaction read them; only others are looked up."""
    values = sorted(set(values))
    loaded = load_case(db, case_id) if case_id is not None else None
    orgs = {p.organisation_id: p.organisation for p in loaded.participants} \
        if loaded is not None else {}
    org_ids = [v[4:] for v in values if v.startswith("org:") and v[4:] not in orgs]
    person_ids = [v.split(":", 1)[1] for v in values if v.startswith(("adult:", "person:"))]
    if org_ids:
        orgs.update(db.execute(select(Organisation.id, Organisation.name)
                               .where(Organisation.id.in_(org_ids))).all())
    people = person_names(db, vault, person_ids, child_id)
    labels = {}
    for value in values:
        kind, _, ident = value.partition(":")
        name = orgs.get(ident) if kind == "org" else people.get(ident) \
            if kind in ("adult", "person") else ident
        labels[value] = Label(value, kind, name or ident)
    return labels


def person_names(db: Session, vault: Vault, ids: Iterable[str],
                 child_id: str | None = None) -> dict[str, str]:
    """Names by person id; ``child_id``: the child's adults as this transaction read them
    (portal.consent.facts.child_adults) are not looked up again."""
    return names_of(db, vault, ids, child_adults(db, child_id).people if child_id else None)


def case_recipients(db: Session, case_id: str) -> list[str]:
    """The organisations taking part, then the participants' roles in them."""
    return list(remembered(db, ("case recipients", case_id), lambda: _case_recipients(db, case_id)))


def _case_recipients(db: Session, case_id: str) -> list[str]:
    # The roles as read with the participants (portal.cases.loaded), when loaded.
    loaded = load_case(db, case_id)
    rows: list[tuple[str, str]] = [(org, role) for _, org, role in loaded.member_roles] \
        if loaded is not None else [
        (org, role.value) for org, role in db.execute(
            select(CaseParticipant.organisation_id, Membership.role)
            .join(Membership, (Membership.person_id == CaseParticipant.person_id)
                  & (Membership.organisation_id == CaseParticipant.organisation_id))
            .where(CaseParticipant.case_id == case_id))]
    orgs = sorted({f"org:{org}" for org, _ in rows})
    roles = sorted({f"role:{role}" for _, role in rows})
    return orgs + roles


def family_recipients(facts: ConsentFacts) -> list[str]:
    """Adults without custody whom the consenters may choose to inform (foster parents)."""
    return [f"adult:{a.id}" for a in facts.adults
            if not resolve_custody(a) and a.relation in (Relation.FOSTER_PARENT, Relation.PARENT)]


def your_access(actor: Actor, facts: CaseFacts, categories: Sequence[str]
                ) -> tuple[CategoryAccess, ...]:
    """Per category, whether the policy would let ``actor`` read an item of it."""
    result = []
    for category in categories:
        probe = ItemFacts(item_type="category", item_id="", categories=frozenset({category}))
        decision = decide(actor, Action.ITEM_READ, facts, probe)
        result.append(CategoryAccess(category, decision.allowed,
                                     getattr(decision, "reason", "")))
    return tuple(result)


def outstanding(status: ConsentStatus, organisations: Iterable[str]
                ) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Per required consenter, the categories an organisation taking part cannot read yet
    for want of that consenter's consent (nothing under a legal ground)."""
    if not status.consent_required:
        return ()
    wanted = set(organisations)
    missing: dict[str, set[str]] = {c: set() for c in status.required}
    for grid in status.grids:
        if grid.recipient not in wanted:
            continue
        for row in grid.rows:
            if row.consenter not in missing:
                continue
            for category, cell, granted in zip(status.categories, row.cells, grid.granted,
                                               strict=True):
                if not granted and cell is not Cell.COVERED:
                    missing[row.consenter].add(category)
    return tuple((c, tuple(cat for cat in status.categories if cat in missing[c]))
                 for c in status.required if missing[c])


def grants_of(db: Session, case_id: str, now: datetime) -> tuple[GrantView, ...]:
    return tuple(GrantView(g.id, name, g.granted_at, g.expires_at, now < g.expires_at)
                 for g, name in case_grants(db, case_id))


def _status(db: Session, facts: CaseFacts, consent: ConsentFacts, organisation_id: str,
            recipients: Sequence[str]) -> ConsentStatus:
    loaded = load_case(db, facts.case_id)
    options = case_options(db, loaded.case) if loaded is not None \
        else organisation_options(db, organisation_id)
    return consent_status(consent, Basis(facts.legal_basis.value), recipients,
                          options.warning_days)


def missing_consenters(db: Session, facts: CaseFacts) -> int:
    """How many people still have to consent before every organisation taking part can
    read what it needs (the case banner's count, without the names or the grids)."""
    if facts.consent is None or facts.organisation_id is None:
        return 0
    organisations = [r for r in case_recipients(db, facts.case_id) if r.startswith("org:")]
    return len(outstanding(_status(db, facts, facts.consent, facts.organisation_id,
                                   organisations),
                           organisations))


def summarize(db: Session, vault: Vault, actor: Actor, facts: CaseFacts, *, organisation_id: str,
              professional: bool, now: datetime) -> ConsentSummary | None:
    """The consent picture of a named case (None for an anonymous one)."""
    consent = facts.consent
    if consent is None:
        return None
    recorded = [r.recipients for r in consent_records(db, facts.case_id)]
    # A grid per organisation taking part, and per other recipient a consent names
    # (a role, a foster parent); roles nobody named would only show empty grids.
    organisations = [r for r in case_recipients(db, facts.case_id) if r.startswith("org:")]
    recipients = list(organisations)
    recipients += sorted({r for rs in recorded for r in rs} - set(recipients))
    status = _status(db, facts, consent, organisation_id, recipients)
    names = person_names(db, vault, (a.id for a in consent.adults), facts.child_id)
    names[CHILD] = ""
    return ConsentSummary(
        status=status, labels=labels_for(db, vault,
                                         [*recipients, *case_recipients(db, facts.case_id),
                                          *family_recipients(consent)],
                                         case_id=facts.case_id, child_id=facts.child_id),
        names=names,
        your_access=your_access(actor, facts, status.categories) if professional else (),
        show_change=professional and decide(actor, Action.CONSENT_RECORD, facts).allowed,
        grants=grants_of(db, facts.case_id, now) if professional else (),
        outstanding=outstanding(status, organisations))
