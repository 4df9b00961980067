"""The daily retention job: crypto-shred each case whose retention ran out, one per transaction.

Each case is claimed, checked again under the claim, recorded, shredded with
the same function a chair's erasure uses, and committed on its own: a crash
midway leaves every case either whole or fully shredded and on record, and
the next run picks up the rest. The claim is a compare-and-set on
``mdo_case.erased_at`` (and ``retention_erasure.case_id`` is unique), so even
two processes running the job at once shred each case once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from portal.audit.service import record
from portal.cases.erasure import shred_case
from portal.cases.models import Case
from portal.retention.facts import candidate_cases, case_expiry, case_on_hold
from portal.retention.models import RetentionErasure
from portal.staff.lifecycle import system_requester
from portal.vault.service import Vault

log = logging.getLogger(__name__)
# How the erasure names its author in the case and the access log.
ROLE = "retention"


def due_case_ids(db: Session, now: datetime) -> list[str]:
    """Cases whose retention ran out by ``now`` and that no hold keeps."""
    due = []
    for case in candidate_cases(db):
        found, _ = case_expiry(db, case)
        if found is not None and found.at <= now and not case_on_hold(db, case):
            due.append(case.id)
    return due


def run_retention(db: Session, vault: Vault, now: datetime) -> int:
    """Shred every case that is due; returns how many this run shredded."""
    db.commit()  # whatever the caller holds (the job lease) is visible to all from here
    shredded = 0
    for case_id in due_case_ids(db, now):
        try:
            if erase_expired(db, vault, now, case_id):
                shredded += 1
            db.commit()
        except Exception:
            # This case stays whole (its transaction is rolled back); the others go on.
            db.rollback()
            log.exception("retention: case %s was not erased; retried on the next run", case_id)
    return shredded


def erase_expired(db: Session, vault: Vault, now: datetime, case_id: str) -> bool:
    """Claim, check again, record and shred one case, uncommitted; False if not (still) due."""
    claimed = db.execute(update(Case).where(Case.id == case_id, Case.erased_at.is_(None))
                         .values(erased_at=now).execution_options(synchronize_session=False))
    if int(getattr(claimed, "rowcount", 0)) != 1:
        db.rollback()  # another process shredded it, or it was erased by hand
        return False
    case = db.get_one(Case, case_id, populate_existing=True)
    found, policy = case_expiry(db, case)
    if found is None or policy is None or found.at > now or case_on_hold(db, case):
        db.rollback()  # a hold or a changed policy came in between: the case stays
        return False
    reason = (f"retention:{policy.data_kind.value}:{found.period.months}m"
              f":{found.period.counted_from.value}")
    record(db, system_requester("retention job", found.organisation_id), now,
           event_type="retention.erase", action="execute", outcome="allowed",
           case_id=case.id, child_id=case.child_id, object_type="case", object_id=case.id,
           reason=reason, purpose_of_use="administration")
    shred_case(db, vault, case, now, erased_by=policy.confirmed_by, role=ROLE,
               organisation_id=found.organisation_id)
    db.add(RetentionErasure(case_id=case.id, policy_id=policy.id,
                            organisation_id=found.organisation_id,
                            period_months=found.period.months,
                            counted_from=found.period.counted_from,
                            event_at=found.event_at, expired_at=found.at, erased_at=now))
    db.flush()
    return True
