"""The cost of the access log: the case page with its record vs the same page without.

Usage: .venv/bin/python bench/bench_audit_logging.py [--requests 48] [--rounds 21]
       [--threads 8]

For SQLite (WAL, synchronous=FULL) and PostgreSQL (a throwaway cluster started
here with fsync and synchronous_commit ON, i.e. durable commits), in one run:
the demo case page is requested over real HTTP, alternating rounds with
logging on and off. "Off" is a benchmark-only build: every ``record`` and
``record_all`` the portal's services imported is swapped for a no-op in this process; nothing in
the portal can switch logging off. Reported: requests per second (median of
the batches) and the ratio on/off, one client sequentially and ``--threads``
clients at once, and how much of the time with logging on a request held the
chain head (``HeadWatch``: from the moment its records are chained, at its
commit, to the end of that commit). Target: ratio >= 0.8 at 8 clients on
PostgreSQL.

The page with logging on writes one row and updates the chain head in the
request's transaction, and commits it (durably) before the page is sent.
This is a plain script, not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event
from sqlalchemy.orm import Session

from crypto import LocalKeyFileProvider
from portal import demo
from portal.app import create_app
from portal.audit import ledger
from portal.audit import service as audit_service
from portal.db import make_engine, session_factory, unit_of_work
from portal.migrate import upgrade
from portal.settings import Settings
from portal.vault.service import Vault
from tests.harness import PortalClient, _pg_bin, bind_socket, serve

CASE_PATH = f"/cases/{demo.stable_id('case', demo.DEMO_CASE.key)}"


@contextmanager
def durable_postgres() -> Iterator[str]:
    """A private cluster on a unix socket, with durable commits (unlike the tests' one)."""
    base = Path(tempfile.mkdtemp(prefix="mdo-bench-pg-"))
    as_postgres = os.geteuid() == 0
    if as_postgres:
        shutil.chown(base, "postgres", "postgres")

    def run(*cmd: str) -> None:
        prefix = ("runuser", "-u", "postgres", "--") if as_postgres else ()
        subprocess.run((*prefix, *cmd), check=True, capture_output=True)

    data = base / "data"
    run(_pg_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
        "--locale=C")
    run(_pg_bin("pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"), "-o",
        f"-k {base} -c listen_addresses='' -c fsync=on -c synchronous_commit=on", "start")
    try:
        run(_pg_bin("psql"), "-h", str(base), "-U", "postgres", "-c", "CREATE DATABASE bench")
        yield f"postgresql+psycopg://postgres@/bench?host={base}"
    finally:
        run(_pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "stop")
        shutil.rmtree(base, ignore_errors=True)


def prepare(url: str, data_dir: Path) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(session_factory(engine)) as db:
        demo.load(db, Vault(LocalKeyFileProvider(data_dir / "keyring.json", create=True)),
                  datetime.now(UTC))
    engine.dispose()


class Switch:
    """Swaps every imported ``record`` and ``record_all`` for a no-op (the
    benchmark-only build) and back. The case page writes its records with
    ``record_all`` (one insert per page): swapping ``record`` alone left
    logging on in the "off" build."""

    def __init__(self) -> None:
        self.real = {"record": audit_service.record, "record_all": audit_service.record_all}
        self.holders = [(m, name) for module_name, m in sys.modules.items()
                        if module_name.startswith("portal.")
                        for name, real in self.real.items() if getattr(m, name, None) is real]

    def logging(self, on: bool) -> None:
        off: dict[str, Callable[..., Any]] = {"record": lambda *a, **k: None,
                                              "record_all": lambda db, entries: entries}
        for module, name in self.holders:
            setattr(module, name, self.real[name] if on else off[name])


class HeadWatch:
    """How long requests hold the chain head row: from the moment their chaining has
    it locked (after any wait for it) to the end of their transaction, which is
    when the row lock (PostgreSQL) or the write lock (SQLite) is released. Held for
    nearly all of the wall time at several clients, the head is what serialises."""

    KEY = "bench.head_locked_at"

    def __init__(self) -> None:
        self.held = self.waited = 0.0
        self.count = 0
        self._guard = threading.Lock()
        real = ledger._lock_head

        def timed(db: Session) -> Any:
            first = self.KEY not in db.info
            asked = time.perf_counter()
            head = real(db)
            if first:
                got = time.perf_counter()
                db.info[self.KEY] = got
                with self._guard:
                    self.waited += got - asked
            return head

        ledger._lock_head = timed
        event.listen(Session, "after_commit", self._released)
        event.listen(Session, "after_rollback", self._released)

    def _released(self, db: Session) -> None:
        locked = db.info.pop(self.KEY, None)
        if locked is not None:
            with self._guard:
                self.held += time.perf_counter() - locked
                self.count += 1

    def snapshot(self) -> tuple[float, float, int]:
        with self._guard:
            return self.held, self.waited, self.count


def measure(clients: list[PortalClient], requests: int, failures: list[int]) -> float:
    """Requests per second over one batch; non-200 answers are counted, not retried."""
    def burst(client: PortalClient, count: int) -> None:
        for _ in range(count):
            if client.get(CASE_PATH).status_code != 200:
                failures.append(1)

    share = max(requests // len(clients), 1)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        list(pool.map(lambda c: burst(c, share), clients))
    return share * len(clients) / (time.perf_counter() - start)


def bench_engine(label: str, url: str, data_dir: Path, args: argparse.Namespace,
                 switch: Switch, watch: HeadWatch) -> list[str]:
    prepare(url, data_dir)
    sock = bind_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    running = serve(create_app(Settings(mode="dev", public_url=base, database_url=url,
                                        data_dir=data_dir)), sock, None)  # type: ignore[arg-type]
    lines = []
    try:
        for threads in (1, args.threads):
            clients = [running.client() for _ in range(threads)]
            for client in clients:
                client.login("ib")
                client.get(CASE_PATH)  # warm up
            rates: dict[bool, list[float]] = {True: [], False: []}
            failures: dict[bool, list[int]] = {True: [], False: []}
            wall = 0.0
            held_before = watch.snapshot()
            # Short batches, alternating (and alternating which goes first), so
            # that drift in the machine's speed hits both settings alike.
            for index in range(args.rounds):
                for on in ((True, False) if index % 2 == 0 else (False, True)):
                    switch.logging(on)
                    began = time.perf_counter()
                    rates[on].append(measure(clients, args.requests, failures[on]))
                    if on:
                        wall += time.perf_counter() - began
            switch.logging(True)
            held, waited, count = (now - before for now, before
                                   in zip(watch.snapshot(), held_before, strict=True))
            rate_on, rate_off = statistics.median(rates[True]), statistics.median(rates[False])
            failed = (f"  [not 200: {len(failures[True])} with, {len(failures[False])} without]"
                      if failures[True] or failures[False] else "")
            lines.append(f"{label:<10} {threads:>2} client(s): with the access record "
                         f"{rate_on:7.1f} req/s, without {rate_off:7.1f} req/s, "
                         f"ratio {rate_on / rate_off:.2f}x"
                         + failed)
            if count:
                lines.append(f"{label:<10} {threads:>2} client(s): chain head held "
                             f"{held / wall:.0%} of the time with logging on, "
                             f"{held / count * 1000:.1f} ms per request after "
                             f"{waited / count * 1000:.1f} ms waiting for it")
    finally:
        switch.logging(True)
        running.stop()
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=48, help="requests per batch")
    parser.add_argument("--rounds", type=int, default=21, help="batches per setting")
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    switch = Switch()
    watch = HeadWatch()
    results: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        data_dir.chmod(0o700)
        results += bench_engine("SQLite", f"sqlite:///{data_dir / 'bench.db'}", data_dir,
                                args, switch, watch)
        with durable_postgres() as url:
            results += bench_engine("PostgreSQL", url, data_dir, args, switch, watch)
    print(f"case page, {args.rounds} alternating batches of {args.requests} requests per "
          "setting (median), logging on vs off:")
    for line in results:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
