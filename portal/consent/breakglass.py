"""The safety exception (break-glass) and the DPO's review of it.

A participant with serious concerns about the child's safety may read items
outside the consent scope after writing down why. The grant is personal,
lasts ``GRANT_DURATION`` (24 hours), is shown on the case, flagged on every
access record it allows (``Allow.break_glass_id``), and the DPO is told at
once: a content-free e-mail through the outbox and an entry on the DPO's page
that stays open until reviewed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auth.config import acr_at_least
from crypto import Binding
from portal.audit.service import Requester, record
from portal.audit.views import StepUpRequired
from portal.cases.gate import case_facts, is_uuid
from portal.cases.models import Case
from portal.consent.models import BreakGlassGrant
from portal.dpo.scope import fg_case_ids, fg_emails_for_case, supervised
from portal.errors import N_, AccessDenied, InvalidInput
from portal.mail.service import enqueue
from portal.people.models import Membership, Organisation, Person
from portal.policy import Action, Actor, Deny, decide
from portal.vault.service import Vault
from portal.web.text import require_clean_text

GRANT_DURATION = timedelta(hours=24)
REASON_MIN = 20
REASON_MAX = 2000
# Content-free: no child, no case title, no reason. Dutch, as the DPO reads it.
DPO_SUBJECT = "MDO-portaal: veiligheidsuitzondering gebruikt"
DPO_BODY = ("Een deelnemer heeft in het MDO-portaal de uitzondering bij ernstige zorgen over "
            "de veiligheid van een kind gebruikt (break-glass).\n\n"
            "Beoordeel dit in het portaal: {link}\n")


def reason_binding(case_id: str, grant_id: str) -> Binding:
    return Binding(purpose="case-field", case_id=case_id, object_type="break_glass",
                   object_id=grant_id, version=1, field="reason")


def open_grant(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
               case_id: str, reason: str, public_url: str) -> str:
    """Grant the actor the safety exception on a case; returns the grant id."""
    facts = case_facts(db, case_id)
    decision = decide(actor, Action.BREAK_GLASS, facts) if facts is not None \
        else Deny(reason="no_such_case", hide=True)
    if isinstance(decision, Deny):
        record(db, who, now, event_type="break_glass.open", action="execute",
               decision=decision, case_id=facts.case_id if facts else None,
               child_id=facts.child_id if facts else None, object_type="case",
               object_id=case_id if is_uuid(case_id) else None)
        raise AccessDenied(decision)
    assert facts is not None
    reason = reason.strip()
    if len(reason) < REASON_MIN:
        raise InvalidInput({"reason": N_("Describe the safety concern (at least a sentence).")})
    if len(reason) > REASON_MAX:
        raise InvalidInput({"reason": N_("The description is too long.")})
    require_clean_text({"reason": reason}, multiline=("reason",))
    case = db.get_one(Case, facts.case_id)
    grant_id = str(uuid.uuid4())
    key = vault.key_for(db, case.title_ct)
    db.add(BreakGlassGrant(id=grant_id, case_id=case.id, person_id=actor.person_id,
                           reason_ct=vault.seal(key, reason, reason_binding(case.id, grant_id)),
                           granted_at=now, expires_at=now + GRANT_DURATION,
                           dpo_notified_at=now))
    db.flush()
    record(db, who, now, event_type="break_glass.open", action="execute", decision=decision,
           case_id=case.id, child_id=case.child_id, object_type="break_glass",
           object_id=grant_id, break_glass_id=grant_id)
    _notify_dpo(db, now, public_url, case.id)
    return grant_id


def _notify_dpo(db: Session, now: datetime, public_url: str, case_id: str) -> None:
    """The FG of every organisation in the case (the supervisor where none has one)."""
    for email in fg_emails_for_case(db, case_id):
        enqueue(db, now, kind="break_glass.dpo", recipient=str(email), subject=DPO_SUBJECT,
                body=DPO_BODY.format(link=f"{public_url}/dpo/break-glass"))


@dataclass(frozen=True)
class ReviewEntry:
    id: str
    case_id: str
    person_name: str
    organisation: str
    granted_at: datetime
    expires_at: datetime
    reason: str | None  # None: erased with the case
    reviewed_at: datetime | None
    reviewer_name: str | None


def review_list(db: Session, vault: Vault, who: Requester, actor: Actor, now: datetime,
                acr: str | None, required_acr: str) -> list[ReviewEntry]:
    """The FG's page: the grants on cases their organisation takes part in (the
    supervisor's: every grant), open ones first; each reason read is recorded.

    The reasons are free text about a child's safety: the same strong login as
    searching the log is required."""
    decision = supervised(db, actor, decide(actor, Action.DPO_REVIEW))
    if decision.allowed and not acr_at_least(acr, required_acr):
        decision = Deny(reason="step_up_required")
    if isinstance(decision, Deny):
        record(db, who, now, event_type="break_glass.review", action="read", decision=decision)
        if decision.reason == "step_up_required":
            raise StepUpRequired(decision, required_acr)
        raise AccessDenied(decision)
    query = select(BreakGlassGrant, Person.display_name).join(
        Person, Person.id == BreakGlassGrant.person_id)
    cases = fg_case_ids(db, actor)
    if cases is not None:
        query = query.where(BreakGlassGrant.case_id.in_(cases))
    rows = db.execute(query.order_by(BreakGlassGrant.reviewed_at.is_not(None),
                                BreakGlassGrant.granted_at.desc())).all()
    names = dict(db.execute(select(Person.id, Person.display_name).where(
        Person.id.in_([g.reviewed_by for g, _ in rows if g.reviewed_by]))).all())
    entries = []
    for grant, name in rows:
        organisation = db.scalars(
            select(Organisation.name).join(Membership,
                                           Membership.organisation_id == Organisation.id)
            .where(Membership.person_id == grant.person_id).order_by(Organisation.name)).first()
        case = db.get_one(Case, grant.case_id)
        # The child is named so the family's "who looked" shows this read too.
        record(db, who, now, event_type="break_glass.review", action="read", decision=decision,
               case_id=grant.case_id, child_id=case.child_id, object_type="break_glass",
               object_id=grant.id, break_glass_id=grant.id)
        # An erased case took the reason with it (its key is destroyed): the
        # DPO still sees that, when and by whom the exception was used.
        reason = None if case.erased_at is not None else vault.open(
            db, grant.reason_ct, reason_binding(case.id, grant.id),
            vault.key_for(db, case.title_ct))
        entries.append(ReviewEntry(
            id=grant.id, case_id=grant.case_id, person_name=name,
            organisation=organisation or "", granted_at=grant.granted_at,
            expires_at=grant.expires_at,
            reason=reason,
            reviewed_at=grant.reviewed_at,
            reviewer_name=names.get(grant.reviewed_by) if grant.reviewed_by else None))
    return entries


def open_count(db: Session, actor: Actor) -> int:
    """How many grants in the FG's scope wait for review (a count: no reason is read)."""
    query = select(func.count()).select_from(BreakGlassGrant).where(
        BreakGlassGrant.reviewed_at.is_(None))
    cases = fg_case_ids(db, actor)
    if cases is not None:
        query = query.where(BreakGlassGrant.case_id.in_(cases))
    return db.scalar(query) or 0


def mark_reviewed(db: Session, who: Requester, actor: Actor, now: datetime,
                  grant_id: str) -> None:
    decision = supervised(db, actor, decide(actor, Action.DPO_REVIEW))
    grant = db.get(BreakGlassGrant, grant_id) if is_uuid(grant_id) else None
    cases = fg_case_ids(db, actor)
    if grant is not None and cases is not None and db.scalar(
            cases.where(Case.id == grant.case_id)) is None:
        grant = None  # another organisation's case: as if there were no such grant
    if grant is None and decision.allowed:
        decision = Deny(reason="no_such_grant", hide=True)
    record(db, who, now, event_type="break_glass.reviewed", action="update", decision=decision,
           case_id=grant.case_id if grant else None, object_type="break_glass",
           object_id=grant.id if grant else None)
    if isinstance(decision, Deny) or grant is None:
        raise AccessDenied(decision if isinstance(decision, Deny) else Deny("no_such_grant"))
    if grant.reviewed_at is None:
        grant.reviewed_at = now
        grant.reviewed_by = actor.person_id
        db.flush()
