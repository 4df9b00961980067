"""A large secondary school's register import: 2,000 pupils with their parents.

Usage: .venv/bin/python bench/bench_import.py [--pupils 2000] [--postgres]

Builds a portal (dev settings, local keyring, demo data) on a fresh SQLite
file -- or, with ``--postgres``, on a throwaway PostgreSQL cluster -- and
imports a generated file through the register's service, as the upload and
commit routes do: the dry run, the commit (one transaction: every pupil, its
enrolment and adults sealed under their own data keys, one access record per
pupil), and a re-import of the same file (everything unchanged). Siblings
share a parent, so adults are fewer than two per pupil.

Reports seconds per phase, milliseconds per pupil, and each phase's share of
the one-minute budget the issue sets. A plain script, not a test.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal.app import create_app
from portal.audit.service import Requester
from portal.db import make_engine, unit_of_work
from portal.demo import stable_id
from portal.migrate import upgrade
from portal.register import service
from portal.settings import Settings
from tests.harness import PostgresServer
from tests.register.helpers import csv_bytes, pupil

BUDGET_SECONDS = 60.0


def school_file(pupils: int, today: date) -> bytes:
    rng = random.Random(2026)
    rows = []
    family: tuple[tuple[str, str, str, str], ...] = ()
    for number in range(pupils):
        if number % 5 != 1:  # four in five pupils start a family; the next one is a sibling
            surname = f"Achternaam{number}"
            family = ((f"Moeder {surname}", f"moeder{number}@example.nl", "ouder", "ja"),
                      (f"Vader {surname}", f"vader{number}@example.nl", "ouder",
                       rng.choice(["ja", "nee"])))
        born = today - timedelta(days=rng.randint(12 * 365, 18 * 365))
        rows.append(pupil(f"{100000 + number}", f"Leerling{number} {family[0][0][7:]}",
                          born.strftime("%d-%m-%Y"), f"{rng.randint(1, 6)}{rng.choice('abcd')}",
                          *family))
    return csv_bytes(rows)


@contextmanager
def database(postgres: bool, tmp: Path) -> Iterator[str]:
    if not postgres:
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    server = PostgresServer()
    try:
        server.execute("CREATE DATABASE bench")
        yield server.url("bench")
    finally:
        server.stop()


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall-clock and this process's CPU seconds (on a busy machine the CPU time is
    the steadier figure; with PostgreSQL it leaves out the server's share)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - start, time.process_time() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=2000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, database(args.postgres, Path(tmp)) as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        app = create_app(Settings(mode="dev", public_url="http://127.0.0.1:1",
                                  database_url=url, data_dir=Path(tmp)))
        portal = app.state.portal
        try:
            run(portal, args.pupils, "PostgreSQL" if args.postgres else "SQLite")
        finally:
            portal.close()


def run(portal: Any, pupils: int, engine: str) -> None:
    with unit_of_work(portal.sessions) as db:
        from portal import demo

        demo.load(db, portal.vault, portal.clock())
    ib = stable_id("person", "ib")
    with portal.sessions() as db:
        actor = portal.load_actor(db, ib)
    who = Requester(user_id=ib, user_name=actor.name, user_role="care_coordinator",
                    organisation_id=None, session_ref="bench", client_address="127.0.0.1")
    school = stable_id("org", "het-baken")
    data = school_file(pupils, portal.clock().date())

    def call(fn: Callable[..., Any]) -> Any:
        with unit_of_work(portal.sessions) as db:
            return fn(db, portal.vault, who, actor, portal.clock(), school, data)

    preview = timed(lambda: call(service.import_preview))
    commit = timed(lambda: call(service.import_commit))
    again = timed(lambda: call(service.import_commit))
    assert preview[2].ok and len(commit[2].add) == pupils
    assert len(again[2].unchanged) == pupils
    print(f"{engine}: {pupils} pupils, {len(data) / 1024:.0f} KiB file, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for label, (seconds, cpu, _) in (("dry run", preview), ("commit", commit),
                                     ("re-import (unchanged)", again)):
        print(f"  {label:24s} {seconds:7.2f} s wall ({cpu:6.2f} s CPU)  "
              f"{seconds / pupils * 1e3:6.2f} ms/pupil  "
              f"{seconds / BUDGET_SECONDS:5.1%} of a minute")


if __name__ == "__main__":
    main()
