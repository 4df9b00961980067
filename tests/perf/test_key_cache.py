"""Unwrapped data keys are kept for one transaction only: looked up once, gone at
commit or rollback, and an erasure takes effect at once."""

from __future__ import annotations

import pytest

from portal.vault.service import KeyDestroyed, Vault, case_field
from tests.harness import Running
from tests.perf.statements import counted

FIELD = case_field("00000000-0000-4000-8000-000000000001", "title")


def test_a_key_is_looked_up_once_per_transaction(running: Running) -> None:
    vault: Vault = running.portal.vault
    with running.portal.sessions() as db:
        key = vault.new_key(db, "case", "k1", running.clock.now)
        blob = vault.seal(key, "geheim", FIELD)
        db.commit()
        with counted(running.portal.engine) as statements:
            assert vault.open(db, blob, FIELD) == "geheim"
            assert vault.open(db, blob, FIELD) == "geheim"
        assert sum("data_key" in sql for _, sql in statements) == 1
        db.commit()  # the transaction's end forgets the key: looked up afresh
        with counted(running.portal.engine) as statements:
            assert vault.open(db, blob, FIELD) == "geheim"
        assert sum("data_key" in sql for _, sql in statements) == 1


def test_erasure_takes_effect_at_once(running: Running) -> None:
    vault: Vault = running.portal.vault
    with running.portal.sessions() as db:
        key = vault.new_key(db, "case", "k2", running.clock.now)
        blob = vault.seal(key, "geheim", FIELD)
        db.commit()
        assert vault.open(db, blob, FIELD) == "geheim"
        vault.destroy(db, [key.id])  # in the same transaction, after it was used
        with pytest.raises(KeyDestroyed):
            vault.open(db, blob, FIELD)
        db.rollback()


def test_no_key_outlives_its_transaction(running: Running) -> None:
    """Another request's erasure, committed after this one read the key, is seen by
    this session's next transaction; a rolled-back transaction keeps nothing either."""
    vault: Vault = running.portal.vault
    with running.portal.sessions() as db:
        key = vault.new_key(db, "case", "k3", running.clock.now)
        blob = vault.seal(key, "geheim", FIELD)
        db.commit()
        assert vault.open(db, blob, FIELD) == "geheim"
        db.rollback()
        with running.portal.sessions() as other:
            vault.destroy(other, [key.id])
            other.commit()
        with pytest.raises(KeyDestroyed):
            vault.open(db, blob, FIELD)
