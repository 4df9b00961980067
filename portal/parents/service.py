"""The parent (and 16+ pupil) view: their children, the cases about them, the consents.

Who sees what is the policy's ``family_standing`` and its tables
(``FAMILY_PERMISSIONS``, ``FAMILY_PARTS``): a parent with custody (or guardian)
of a child under 16 and the pupil of 16+ see the case's title and purpose and
manage consent; everyone else with a standing gets general information only
(that there is a case, its status, who takes part) — a parent without custody,
the parents once the child is 16, and a foster parent or parent whom the
consenters let in, who additionally reads the shared items their consent names;
anyone else gets 404. Every child name, case, case content and consent shown
leaves an access record first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.service import Requester, record
from portal.cases.gate import authorize, case_facts
from portal.cases.models import Case, CaseParticipant, CaseStatus
from portal.consent.access import may_consent
from portal.consent.rules import CHILD
from portal.consent.service import (
    DEFAULT_VALIDITY,
    ConsentView,
    consent_views,
    consenter_for,
)
from portal.consent.summary import (
    ConsentSummary,
    Label,
    case_recipients,
    family_recipients,
    summarize,
)
from portal.errors import AccessDenied
from portal.people.models import Child, ChildRelation, Organisation
from portal.policy import (
    FAMILY_PARTS,
    Action,
    Actor,
    CaseFacts,
    Decision,
    Deny,
    FamilyPart,
    ItemFacts,
    decide,
)
from portal.vault.service import Vault, case_field, child_field


@dataclass(frozen=True)
class FamilyCase:
    id: str
    full: bool  # False: general information only
    title: str | None
    purpose: str | None
    organisations: tuple[str, ...]
    status: CaseStatus
    erased_at: datetime | None = None  # the whole case was erased: nothing left to show


@dataclass(frozen=True)
class FamilyChild:
    id: str
    name: str
    yourself: bool  # the pupil's own record
    cases: tuple[FamilyCase, ...]


@dataclass(frozen=True)
class FamilyCasePage:
    case: FamilyCase
    child_name: str
    summary: ConsentSummary | None  # the drawn consent status (full view only)
    consents: tuple[ConsentView, ...]
    can_give: bool
    give_as_child: bool
    recipients: tuple[Label, ...]
    today: date

    @property
    def default_until(self) -> date:
        return self.today + DEFAULT_VALIDITY


def _require_family(db: Session, who: Requester, actor: Actor, now: datetime) -> Decision:
    decision = decide(actor, Action.FAMILY_LIST)
    if isinstance(decision, Deny):
        record(db, who, now, event_type="family.home", action="read", decision=decision)
        raise AccessDenied(decision)
    return decision


def _organisations(db: Session, case_id: str) -> tuple[str, ...]:
    return tuple(db.scalars(
        select(Organisation.name).join(CaseParticipant,
                                       CaseParticipant.organisation_id == Organisation.id)
        .where(CaseParticipant.case_id == case_id).distinct().order_by(Organisation.name)))


def _part(db: Session, who: Requester, actor: Actor, now: datetime, facts: CaseFacts,
          part: FamilyPart, event_type: str) -> bool:
    """Whether ``part`` of the case is shown; a part that is shown is recorded first.

    A part the standing does not open is simply not asked for (not an attempt),
    so it leaves no denied record.
    """
    decision = decide(actor, FAMILY_PARTS[part], facts)
    if decision.allowed:
        record(db, who, now, event_type=event_type, action="read", decision=decision,
               case_id=facts.case_id, child_id=facts.child_id, object_type="case",
               object_id=facts.case_id)
    return decision.allowed


def _family_case(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                 facts: CaseFacts) -> FamilyCase:
    case = db.get_one(Case, facts.case_id)
    full = _part(db, who, actor, now, facts, FamilyPart.CONTENT, "family.case.content")
    key = vault.key_for(db, case.title_ct) if full else None
    return FamilyCase(
        id=case.id, full=full,
        title=vault.open(db, case.title_ct, case_field(case.id, "title"), key) if key else None,
        purpose=vault.open(db, case.purpose_ct, case_field(case.id, "purpose"), key)
        if key else None,
        organisations=_organisations(db, case.id), status=case.status,
        erased_at=case.erased_at)


def family_home(db: Session, vault: Vault, who: Requester, actor: Actor,
                now: datetime) -> list[FamilyChild]:
    """The actor's children (or their own record), each with the cases they may see."""
    allowed = _require_family(db, who, actor, now)
    related = set(db.scalars(select(ChildRelation.child_id)
                             .where(ChildRelation.person_id == actor.person_id)))
    own = db.scalars(select(Child.id).where(Child.person_id == actor.person_id)).first()
    children = []
    for child_id in sorted(related | ({own} if own else set())):
        child = db.get_one(Child, child_id)
        record(db, who, now, event_type="family.child.view", action="read", decision=allowed,
               child_id=child.id, object_type="child", object_id=child.id)
        cases = []
        for case_id in db.scalars(select(Case.id).where(Case.child_id == child.id)
                                  .order_by(Case.created_at.desc())):
            facts = case_facts(db, case_id, vault, now)
            assert facts is not None
            decision = decide(actor, Action.FAMILY_GENERAL, facts)
            record(db, who, now, event_type="family.case.list", action="read",
                   decision=decision, case_id=facts.case_id, child_id=child.id,
                   object_type="case", object_id=facts.case_id)
            if decision.allowed:
                cases.append(_family_case(db, vault, who, actor, now, facts))
        children.append(FamilyChild(
            id=child.id, name=vault.open(db, child.name_ct, child_field(child.id, "name")),
            yourself=child.id == own, cases=tuple(cases)))
    return children


def family_case(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                case_id: str) -> FamilyCasePage:
    facts = authorize(db, who, actor, now, Action.FAMILY_GENERAL, case_id,
                      event_type="family.case.view", action_code="read", vault=vault)
    consent = facts.consent
    assert consent is not None and facts.child_id is not None  # FAMILY_GENERAL needs a child
    view = _family_case(db, vault, who, actor, now, facts)
    child = db.get_one(Child, facts.child_id)
    case = db.get_one(Case, facts.case_id)
    # The consent picture is for those who manage consent (custodians, the pupil of
    # 16+); a foster parent shown what was shared with them does not see who
    # consented to what.
    manages = _part(db, who, actor, now, facts, FamilyPart.CONSENTS, "family.consents.view")
    summary = summarize(db, vault, actor, facts, organisation_id=case.organisation_id,
                        professional=False, now=now) if manages else None
    can_give = decide(actor, FAMILY_PARTS[FamilyPart.GIVE_CONSENT], facts).allowed \
        and may_consent(consent, consenter_for(facts, actor))
    options = case_recipients(db, facts.case_id)
    options = [o for o in options if o.startswith("org:")] + family_recipients(consent)
    labels = summary.labels if summary else {}
    child_name = vault.open(db, child.name_ct, child_field(child.id, "name"))
    if summary is not None:
        # The page already names the child (FAMILY_GENERAL allowed it): the consent
        # picture says "Sanne", not "the child / young person".
        summary = replace(summary, names={**summary.names, CHILD: first_name(child_name)})
    return FamilyCasePage(
        case=view, child_name=child_name,
        summary=summary,
        consents=consent_views(db, vault, case.id, consent.on, actor.person_id,
                               consenter_for(facts, actor) == "child") if manages else (),
        can_give=can_give, give_as_child=consenter_for(facts, actor) == "child",
        recipients=tuple(labels[o] for o in options if o in labels), today=consent.on)


def withdrawal_page(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                    case_id: str, consent_id: str) -> tuple[FamilyCasePage, ConsentView]:
    """The confirmation step of a withdrawal: only one's own consent still in force."""
    view = family_case(db, vault, who, actor, now, case_id)
    chosen = next((c for c in view.consents
                   if c.id == consent_id and c.yours and c.withdrawn_at is None), None)
    if chosen is None:
        # Someone else's, already withdrawn, or no consent at all: the attempt is
        # on record, without an object id nobody vouches for.
        denied = Deny(reason="no_such_consent", hide=True)
        record(db, who, now, event_type="consent.withdraw.form", action="read",
               decision=denied, case_id=view.case.id, child_id=_child_of(db, view.case.id),
               object_type="consent")
        raise AccessDenied(denied)
    return view, chosen


def first_name(name: str) -> str:
    """The first word of a child's name, as the family calls the child."""
    return name.split(maxsplit=1)[0] if name.strip() else name


def _child_of(db: Session, case_id: str) -> str | None:
    return db.get_one(Case, case_id).child_id


def readable_items(actor: Actor, facts: CaseFacts, items: Iterable[ItemFacts]
                   ) -> list[tuple[ItemFacts, Decision]]:
    """For the documents' parent listing: each item with the policy's decision.

    The caller records every decision (allowed or not) and shows only the
    allowed ones; ``facts`` must come from ``case_facts(db, id, vault, now)``.
    """
    return [(item, decide(actor, Action.ITEM_READ, facts, item)) for item in items]
