"""Shared set-up for the retention tests: the demo cases, closed, and policies confirmed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import DecryptionError
from portal.cases.models import Case, CaseStatus
from portal.demo import DEMO_CASE, NOOR_CASE, stable_id
from portal.meetings.models import Meeting
from portal.retention.models import CountedFrom, DataKind, RetentionPolicy
from portal.vault.service import KeyDestroyed, Vault

SAM_CASE = stable_id("case", DEMO_CASE.key)
NOOR = stable_id("case", NOOR_CASE.key)  # Het Baken with Jeugdhulp Noord taking part
SCHOOL = stable_id("org", "het-baken")
YOUTH_CARE = stable_id("org", "jeugdhulp-noord")
ADMIN = stable_id("person", "beheerder")


def close(db: Session, case_id: str, at: datetime) -> None:
    case = db.get_one(Case, case_id)
    case.status, case.closed_at = CaseStatus.CLOSED, at


def confirm(db: Session, organisation_id: str, months: int, counted_from: CountedFrom,
            at: datetime) -> None:
    db.add(RetentionPolicy(organisation_id=organisation_id, data_kind=DataKind.CASE_FILE,
                           period_months=months, counted_from=counted_from,
                           confirmed_at=at, confirmed_by=ADMIN))


def intact(db: Session, vault: Vault, case_id: str) -> bool:
    """The case's title, and every meeting's place, still open; False once shredded."""
    case = db.get_one(Case, case_id, populate_existing=True)
    blobs = [case.title_ct, *db.scalars(select(Meeting.place_ct)
                                        .where(Meeting.case_id == case_id))]
    try:
        for blob in blobs:
            vault.key_for(db, blob)
    except (KeyDestroyed, DecryptionError, ValueError):
        return False
    return case.erased_at is None


def shredded(db: Session, vault: Vault, case_id: str) -> bool:
    case = db.get_one(Case, case_id, populate_existing=True)
    if case.erased_at is None or case.title_ct != b"":
        return False
    return not any(_opens(db, vault, blob) for blob in db.scalars(
        select(Meeting.place_ct).where(Meeting.case_id == case_id)))


def _opens(db: Session, vault: Vault, blob: bytes) -> bool:
    try:
        vault.key_for(db, blob)
    except (KeyDestroyed, DecryptionError, ValueError):
        return False
    return True
