"""Closing a case: whether it may be closed, and closing it (policy → access record)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from portal.audit.service import Requester
from portal.cases.gate import authorize, case_facts
from portal.cases.models import Case, CaseStatus
from portal.policy import Action, Actor, decide


def may_close(db: Session, actor: Actor, case_id: str) -> bool:
    """Whether a close would be allowed: the question before the confirmation page.
    Nothing is recorded here: the page that follows (the confirmation, or the refused
    close) records the one access it is."""
    facts = case_facts(db, case_id, None, None)
    return facts is not None and decide(actor, Action.CASE_CLOSE, facts).allowed


def close_case(db: Session, who: Requester, actor: Actor, now: datetime, case_id: str) -> None:
    facts = authorize(db, who, actor, now, Action.CASE_CLOSE, case_id,
                      event_type="case.close", action_code="update")
    case = db.get_one(Case, facts.case_id)
    case.status = CaseStatus.CLOSED
    case.closed_at = now
    db.flush()
