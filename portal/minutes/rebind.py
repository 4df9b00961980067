"""Re-seal minutes sections stored before binding 2 with categories and sharing bound.

Each section row (and correction) is opened with its location-only binding
and sealed again under the same data key with binding 2, in one transaction
(a savepoint per row: one that does not open is skipped and reported). It
trusts the columns as they are *now*: run it right after ``portal db
upgrade`` (``portal keys rebind``). Drafts need nothing: the next autosave
seals them with binding 2, and ``save_version`` discards them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crypto import DecryptionError
from portal.db import unit_of_work
from portal.minutes.corrections import correction_binding
from portal.minutes.models import Minutes, MinutesCorrection, MinutesSection, MinutesVersion
from portal.minutes.sections import Opener, seal_section
from portal.vault.service import LOCATION_ONLY, WITH_ACCESS_FACTS, Vault


def rebind_sections(sessions: sessionmaker[Session], vault: Vault,
                    skipped: list[str] | None = None) -> int:
    """Re-seal every binding-1 section row; returns how many. Safe to run again.

    A row that does not open is left as it is; its section key goes to ``skipped``.
    """
    done = 0
    with unit_of_work(sessions) as db:
        rows = db.execute(select(MinutesSection, Minutes.case_id)
                          .join(MinutesVersion, MinutesVersion.id == MinutesSection.version_id)
                          .join(Minutes, Minutes.id == MinutesVersion.minutes_id)
                          .where(MinutesSection.binding == LOCATION_ONLY)).all()
        for section, case_id in rows:
            try:
                with db.begin_nested():
                    _rebind(db, vault, section, case_id)
                done += 1
            except DecryptionError:
                if skipped is not None:
                    skipped.append(section.section_key)
    return done


def _rebind(db: Session, vault: Vault, section: MinutesSection, case_id: str) -> None:
    opener = Opener(db, vault, case_id)
    text = opener.text(section)
    seal_section(vault, opener.key(section.data_key_id), case_id, section, text.heading,
                 text.body)


def rebind_corrections(sessions: sessionmaker[Session], vault: Vault,
                       skipped: list[str] | None = None) -> int:
    """Re-seal every binding-1 correction's texts with its categories bound; how many."""
    done = 0
    with unit_of_work(sessions) as db:
        rows = db.execute(select(MinutesCorrection, Minutes.case_id)
                          .join(Minutes, Minutes.id == MinutesCorrection.minutes_id)
                          .where(MinutesCorrection.binding == LOCATION_ONLY)).all()
        for correction, case_id in rows:
            try:
                with db.begin_nested():
                    _rebind_correction(db, vault, correction, case_id)
                done += 1
            except DecryptionError:
                if skipped is not None:
                    skipped.append(correction.id)
    return done


def _rebind_correction(db: Session, vault: Vault, correction: MinutesCorrection,
                       case_id: str) -> None:
    key = vault.key_by_id(db, correction.data_key_id,
                          owner=("minutes_correction", correction.id))
    fields = {name: vault.open(db, blob, correction_binding(case_id, correction, name), key)
              for name, blob in (("text", correction.text_ct), ("reason", correction.reason_ct),
                                 ("decision", correction.decision_ct)) if blob}
    correction.binding = WITH_ACCESS_FACTS
    for name, text in fields.items():
        setattr(correction, f"{name}_ct",
                vault.seal(key, text, correction_binding(case_id, correction, name)))
