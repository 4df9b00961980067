"""Fixtures shared by tests/ and e2e/: real databases and a real served portal.

Integration tests that take ``database_url`` (or ``running``) run twice: on
SQLite and on a throwaway PostgreSQL server started here. Set
``PORTAL_TEST_REQUIRE_POSTGRES=1`` (``make test`` does) to turn a PostgreSQL
that cannot start into a failure instead of a skip.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crypto import LocalKeyFileProvider
from portal import demo
from portal.app import create_app
from portal.db import make_engine, session_factory, unit_of_work
from portal.migrate import upgrade
from portal.settings import Settings
from portal.vault.service import Vault
from tests.harness import FakeClock, PostgresServer, Running, bind_socket, serve

REQUIRE_POSTGRES = os.environ.get("PORTAL_TEST_REQUIRE_POSTGRES") == "1"
# `make test` sets this: a test that skips because a tool (Chromium, SoftHSM2,
# node) is missing is a failure there, since the command installs them.
REQUIRE_ALL = os.environ.get("PORTAL_TEST_REQUIRE_ALL") == "1"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under `make test`, which must run everything: {report.longrepr}"
    return report
TEMPLATE_DB = "mdo_template"


@pytest.fixture(autouse=True)
def _logging_state_restored() -> Iterator[None]:
    """A test that runs ``portal.cli.main`` in-process installs the portal's JSON
    logging on the root logger (``portal.ops.logs.configure``); put back what was
    there, so later tests' log captures see only their own records."""
    names = ["", *logging.root.manager.loggerDict]
    saved = {}
    for name in names:
        logger = logging.getLogger(name)
        saved[name] = (list(logger.handlers), list(logger.filters), logger.level,
                       logger.propagate)
    yield
    for name, (handlers, filters, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.filters[:] = filters
        logger.setLevel(level)
        logger.propagate = propagate


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer()
    except Exception as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL could not be started: {exc}")
        pytest.skip(f"PostgreSQL could not be started: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Dev secrets shared by the session (generating an RSA key per test is slow)."""
    path = tmp_path_factory.mktemp("keys")
    path.chmod(0o700)
    # Tests pass this as the data dir; dev mode looks for its keyring in
    # "<data dir>-keys" and moves one it finds beside the database there. Point
    # that directory here, so every test (in any order, on any xdist worker)
    # opens the one keyring the template databases were sealed with.
    (path.parent / f"{path.name}-keys").symlink_to(path, target_is_directory=True)
    return path


def _prepare(url: str, keys_dir: Path) -> None:
    engine = make_engine(url)
    upgrade(engine)
    vault = Vault(LocalKeyFileProvider(keys_dir / "keyring.json", create=True))
    with unit_of_work(session_factory(engine)) as db:
        demo.load(db, vault, datetime.now(UTC))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory, keys_dir: Path) -> Path:
    path = tmp_path_factory.mktemp("template") / "portal.db"
    _prepare(f"sqlite:///{path}", keys_dir)
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres: PostgresServer, keys_dir: Path) -> str:
    postgres.execute(f"CREATE DATABASE {TEMPLATE_DB}")
    _prepare(postgres.url(TEMPLATE_DB), keys_dir)
    return TEMPLATE_DB


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    target = tmp_path / "portal.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def postgres_url(postgres: PostgresServer, postgres_template: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    postgres.execute(f"CREATE DATABASE {name} TEMPLATE {postgres_template}")
    yield postgres.url(name)
    postgres.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh, migrated database with the demo data, on each engine in turn."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it yet (for migration tests), on each engine in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    postgres: PostgresServer = request.getfixturevalue("postgres")
    name = f"e_{uuid.uuid4().hex[:16]}"
    postgres.execute(f"CREATE DATABASE {name}")
    yield postgres.url(name)
    postgres.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


StartPortal = Callable[..., Running]


@pytest.fixture
def start_portal(keys_dir: Path) -> Iterator[StartPortal]:
    """Start a portal on a database URL; stopped at the end of the test.

    ``sock`` lets a test bind first (to know the portal's URL, e.g. to register
    it with an identity provider) and start the portal after; ``overrides``
    are ``Settings`` fields."""
    started: list[Running] = []

    def start(url: str, sock: socket.socket | None = None, **overrides: Any) -> Running:
        sock = sock or bind_socket()
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        settings = Settings(mode="dev", public_url=base, database_url=url, data_dir=keys_dir,
                            **overrides)
        clock = FakeClock()
        running = serve(create_app(settings, clock=clock), sock, clock)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def running(database_url: str, start_portal: StartPortal) -> Running:
    """The portal served over real HTTP on a fresh database, on each engine."""
    return start_portal(database_url)


@pytest.fixture
def running_sqlite(sqlite_url: str, start_portal: StartPortal) -> Running:
    return start_portal(sqlite_url)
