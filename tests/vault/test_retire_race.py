"""Retiring a KEK version while requests wrap new data keys: no data key is ever orphaned.

Real threads on a real database (SQLite and PostgreSQL). The interleavings
that used to orphan a key are forced with events, not timing: a request that
wrapped under the old version just before the rotation, and one that holds
its wrapped key uncommitted while the retire runs.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crypto import KeyProvider, LocalKeyFileProvider, WrappedKey
from portal.db import make_engine, session_factory, unit_of_work
from portal.vault import rotation
from portal.vault.models import DataKey, KekVersionState
from portal.vault.service import Vault

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def provider(keys_dir: Path, tmp_path: Path) -> LocalKeyFileProvider:
    keyring = tmp_path / "keyring.json"
    shutil.copyfile(keys_dir / "keyring.json", keyring)
    keyring.chmod(0o600)
    return LocalKeyFileProvider(keyring, create=False)


class PauseAfterWrap:
    """Wraps, then waits for ``go`` before handing the result back (the first time)."""

    def __init__(self, inner: KeyProvider) -> None:
        self.inner = inner
        self.wrapped, self.go = threading.Event(), threading.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def wrap(self, dek: bytes) -> WrappedKey:
        result = self.inner.wrap(dek)
        if not self.wrapped.is_set():
            self.wrapped.set()
            assert self.go.wait(30)
        return result


def orphans(sessions: sessionmaker[Session], provider: KeyProvider) -> list[str]:
    """Data keys that can no longer be unwrapped."""
    lost = []
    with sessions() as db:
        for key in db.scalars(select(DataKey)):
            try:
                provider.unwrap(WrappedKey(key.kek_version, key.wrapped))
            except Exception:
                lost.append(key.id)
    return lost


def in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def test_key_wrapped_before_the_rotation_is_wrapped_again(
        sessions: sessionmaker[Session], provider: LocalKeyFileProvider) -> None:
    """Wrapped under v1, then v2 arrives and v1 is retired before the request stores it."""
    pausing = PauseAfterWrap(provider)
    vault = Vault(pausing)  # type: ignore[arg-type]
    created: list[str] = []

    def request() -> None:
        with unit_of_work(sessions) as db:
            created.append(vault.new_key(db, "document_version", "race", NOW).id)

    thread, errors = in_thread(request)
    assert pausing.wrapped.wait(30)
    rotation.rotate(sessions, provider)
    rotation.retire(sessions, provider, 1, NOW)  # no key under v1 committed: destroyed
    assert provider.versions() == [2]
    pausing.go.set()
    thread.join()
    assert errors == []
    with sessions() as db:
        assert db.get(DataKey, created[0]).kek_version == 2  # type: ignore[union-attr]
    assert orphans(sessions, provider) == []


def test_retire_waits_for_a_wrap_in_flight_and_counts_it(
        sessions: sessionmaker[Session], provider: LocalKeyFileProvider) -> None:
    """A request holds a key wrapped under v1, uncommitted, while v1 is being retired."""
    vault = Vault(provider)
    stored, go = threading.Event(), threading.Event()

    def request() -> None:
        with unit_of_work(sessions) as db:
            vault.new_key(db, "document_version", "in-flight", NOW)
            stored.set()
            assert go.wait(30)

    thread, errors = in_thread(request)
    assert stored.wait(30)
    # v2 exists in the keyring only now: the request's key is under v1.
    provider.rotate()
    retire, refused = in_thread(lambda: rotation.retire(sessions, provider, 1, NOW))
    go.set()
    thread.join()
    retire.join()
    assert errors == []
    assert len(refused) == 1 and isinstance(refused[0], rotation.RetireRefused)
    assert provider.versions() == [1, 2], "v1 still unwraps the request's key"
    assert orphans(sessions, provider) == []
    with sessions() as db:
        assert db.get(KekVersionState, 1).state == "disabled"  # type: ignore[union-attr]
    # The disabled version takes no new keys; the rotation moves the rest, then it goes.
    with unit_of_work(sessions) as db:
        assert vault.new_key(db, "document_version", "after", NOW)
    rotation.rewrap(sessions, provider)
    rotation.retire(sessions, provider, 1, NOW)
    assert provider.versions() == [2]
    assert orphans(sessions, provider) == []


def test_many_writers_during_rotations_and_retires(
        sessions: sessionmaker[Session], provider: LocalKeyFileProvider) -> None:
    """Free-running writers against repeated rotate + retire: every key still unwraps."""
    vault = Vault(provider)
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            with unit_of_work(sessions) as db:
                vault.new_key(db, "document_version", "writer", NOW)

    writers = [in_thread(writer) for _ in range(3)]
    for _ in range(3):
        old = provider.current_version()
        rotation.rotate(sessions, provider)
        for _attempt in range(20):
            try:
                rotation.retire(sessions, provider, old, NOW)
                break
            except rotation.RetireRefused:
                rotation.rewrap(sessions, provider)
        assert old not in provider.versions()
    stop.set()
    for thread, errors in writers:
        thread.join()
        assert errors == []
    assert orphans(sessions, provider) == []
