"""Crypto-shredding of a case's structured minutes, for the erasure of a whole case."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.minutes.models import (
    Minutes,
    MinutesCorrection,
    MinutesDraft,
    MinutesSection,
    MinutesVersion,
)
from portal.vault.service import Vault, secure_delete


def shred_case_minutes(db: Session, vault: Vault, case_id: str) -> int:
    """Delete every minutes row of the case and destroy every key that sealed them.

    Sections, drafts and corrections hold the ciphertext; versions and the
    minutes themselves hold only metadata but point at the keys, so all go:
    the case's erasure summary keeps how many minutes there were. The caller
    records the erasure in the same transaction.
    """
    minutes_ids = list(db.scalars(select(Minutes.id).where(Minutes.case_id == case_id)))
    if not minutes_ids:
        return 0
    version_ids = list(db.scalars(select(MinutesVersion.id)
                                  .where(MinutesVersion.minutes_id.in_(minutes_ids))))
    keys: set[str] = set()
    for column, where in (
            (MinutesVersion.data_key_id, MinutesVersion.minutes_id.in_(minutes_ids)),
            (MinutesSection.data_key_id, MinutesSection.version_id.in_(version_ids)),
            (MinutesDraft.data_key_id, MinutesDraft.minutes_id.in_(minutes_ids)),
            (MinutesCorrection.data_key_id, MinutesCorrection.minutes_id.in_(minutes_ids))):
        keys.update(db.scalars(select(column).where(where)))
    secure_delete(db)
    db.execute(delete(MinutesSection).where(MinutesSection.version_id.in_(version_ids)))
    db.execute(delete(MinutesDraft).where(MinutesDraft.minutes_id.in_(minutes_ids)))
    db.execute(delete(MinutesCorrection).where(MinutesCorrection.minutes_id.in_(minutes_ids)))
    db.execute(delete(MinutesVersion).where(MinutesVersion.id.in_(version_ids)))
    db.execute(delete(Minutes).where(Minutes.id.in_(minutes_ids)))
    db.flush()
    vault.destroy(db, keys)
    return len(minutes_ids)
