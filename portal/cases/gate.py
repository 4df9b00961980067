"""The one gate for a single case: its facts for the policy, decide, record, refuse.

Every protected read of a case goes through ``authorize`` (policy → access
record) before anything is decrypted; a refusal raises ``AccessDenied`` after
its access record was written, so the denied attempt is kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from portal.audit.models import AccessRecord
from portal.audit.service import Requester, entry, record, record_all
from portal.cases.loaded import LoadedCase, load_case, remembered
from portal.consent.facts import load_consent_facts, load_safeguards
from portal.errors import AccessDenied
from portal.policy import Action, Actor, BreakGlassFacts, CaseFacts, Decision, Deny, decide
from portal.vault.service import Vault


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def case_facts(db: Session, case_id: str, vault: Vault | None = None,
               now: datetime | None = None) -> CaseFacts | None:
    """The case's facts for the policy.

    With ``now`` the restrictions and break-glass grants are loaded; with
    ``vault`` and ``now`` also the consent facts (the child's age on that day,
    custody, consents), which reading an item (``Action.ITEM_READ``) and every
    family decision need: without them those are refused.
    """
    loaded = load_case(db, case_id) if is_uuid(case_id) else None
    if loaded is None:
        return None
    return remembered(db, ("facts", case_id, now, vault is not None),
                      lambda: _case_facts(db, loaded, vault, now))


def _case_facts(db: Session, loaded: LoadedCase, vault: Vault | None,
                now: datetime | None) -> CaseFacts:
    case, rows = loaded.case, loaded.participants
    facts = CaseFacts(case_id=case.id, status=case.status, legal_basis=case.legal_basis,
                      anonymous=case.anonymous, child_id=case.child_id,
                      participants={r.person_id: r.case_role for r in rows},
                      participant_organisations={r.person_id: r.organisation_id for r in rows},
                      participant_roles={r.person_id: r.capacity_role for r in rows},
                      organisation_id=case.organisation_id,
                      erased=case.erased_at is not None)
    if now is None:
        return facts
    # The child's key (for the birth date the consent facts need) and the case's (for
    # the page's title, once allowed) were read with the case (portal.cases.loaded).
    guards = load_safeguards(db, case.id, now)
    return replace(
        facts, now=now, restricted=guards.restricted, restricted_items=guards.restricted_items,
        verifying_items=guards.verifying_items,
        break_glass=tuple(BreakGlassFacts(grant_id, person_id, expires_at)
                          for grant_id, person_id, expires_at in guards.grants),
        consent=load_consent_facts(db, vault, case, now) if vault is not None else None)


# Decides a page's further reads once the case's own is allowed, and returns their
# records (not written): see ``authorize(also=...)``.
Planner = Callable[[CaseFacts], Sequence[AccessRecord]]


def authorize(db: Session, who: Requester, actor: Actor, now: datetime, action: Action,
              case_id: str, *, event_type: str, action_code: str,
              vault: Vault | None = None, also: Sequence[Planner] = ()) -> CaseFacts:
    """The one gate for a single case: decide, record, and refuse or return the facts.

    Pass ``vault`` when the decision (or the caller's next ones) needs the
    consent facts: family actions, reading items. ``also``: the page's other
    reads, decided on the same facts when this one is allowed; all the records
    are written together (one insert) before the caller decrypts anything.
    """
    facts = case_facts(db, case_id, vault, now if vault is not None else None)
    if facts is None:
        record(db, who, now, event_type=event_type, action=action_code,
               decision=Deny(reason="no_such_case", hide=True), object_type="case",
               object_id=case_id if is_uuid(case_id) else None)
        raise AccessDenied(Deny(reason="no_such_case", hide=True))
    decision = decide(actor, action, facts)
    entries = [entry(who, now, event_type=event_type, action=action_code, decision=decision,
                     case_id=facts.case_id, child_id=facts.child_id, object_type="case",
                     object_id=facts.case_id)]
    if decision.allowed:
        for plan in also:
            entries.extend(plan(facts))
    record_all(db, entries)
    if isinstance(decision, Deny):
        raise AccessDenied(decision)
    return facts


def _require(db: Session, who: Requester, actor: Actor, now: datetime, action: Action,
             event_type: str, action_code: str) -> Decision:
    decision = decide(actor, action)
    if isinstance(decision, Deny):
        record(db, who, now, event_type=event_type, action=action_code, decision=decision)
        raise AccessDenied(decision)
    return decision
