"""The protected pages against the bare template, before and after, in one run.

Usage: .venv/bin/python bench/bench_protected_page.py [--before /work/main]
       [--rounds 7] [--requests 24] [--threads 8] [--cases 600] [--records 1000,100000]
       [--postgres] [--servers]

For each source tree (``--before``, the code before this change, and this tree),
a worker process builds a fresh database (demo data, ``--cases`` more cases
chaired by the IB'er), serves the portal under uvicorn and measures, in
alternating short batches (median requests per second):

- the case page and ``/cases`` through the whole portal (session, policy,
  access records, decryption, database, durable commit), and
- the same templates rendered with the same already-decrypted context (captured
  from the portal's own render of that page), served by a bare Starlette app on
  the same server: no session, policy, record, decryption or database.

The ratio portal / bare is what is compared. Then the FG's ``/audit`` landing
page and ``/audit?person=…`` are timed (median and p95 of ``--requests``) on a
log of each size in ``--records`` (a real chain, written by the portal's own
``record``): how a page grows with the log. SQLite (WAL, synchronous FULL)
always; with ``--postgres`` also a throwaway durable PostgreSQL cluster.

``--servers`` compares HTTP servers instead of trees: this tree under uvicorn
with its pure-Python parts (h11, asyncio) and with the C ones ``portal run``
uses (httptools, uvloop, which ``uvicorn[standard]`` installs and picks), the
portal and the bare app each on the same server. This is a plain script, not a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

HERE = Path(__file__).resolve().parents[1]


# -- the worker: runs inside one source tree -------------------------------------------------

def _worker(tree: Path, url: str, data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(tree))
    sys.path.insert(1, str(HERE))  # the tests' harness, when the tree is older
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    from crypto import LocalKeyFileProvider
    from portal import demo
    from portal.app import create_app
    from portal.cases.creation import NewCase, create_case_rows
    from portal.cases.models import CaseRole, LegalBasis
    from portal.db import make_engine, session_factory, unit_of_work
    from portal.migrate import upgrade
    from portal.settings import Settings
    from portal.vault.service import Vault
    from tests.harness import bind_socket, serve

    engine = make_engine(url)
    upgrade(engine)
    vault = Vault(LocalKeyFileProvider(data_dir / "keyring.json", create=True))
    now = datetime.now(UTC)
    ib = demo.stable_id("person", "ib")
    with unit_of_work(session_factory(engine)) as db:
        demo.load(db, vault, now)
        for n in range(args.cases):
            create_case_rows(
                db, vault, now - timedelta(minutes=n + 1), case_id=str(uuid.uuid4()),
                created_by=ib, organisation_id=demo.stable_id("org", demo.DEMO_CASE.organisation),
                new=NewCase(child_id=None, anonymous=True, title=f"Casus {n}", purpose="Overleg",
                            legal_basis=LegalBasis.CONSENT),
                participants=[(ib, CaseRole.CHAIR)])
    engine.dispose()

    sock = bind_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(Settings(mode="dev", public_url=base, database_url=url, data_dir=data_dir))
    # Only what --servers asks for: an older tree's harness takes no server options.
    server = {name: value for name, value in (("http", args.http), ("loop", args.loop))
              if value != "auto"}
    running = serve(app, sock, None, **server)  # type: ignore[arg-type]
    portal = app.state.portal
    case_path = f"/cases/{demo.stable_id('case', demo.DEMO_CASE.key)}"

    # The bare pages: the portal's own templates and contexts, captured once.
    captured: dict[str, tuple[Any, dict[str, Any]]] = {}
    real_get = portal.templates.get_template

    def capturing(name: str, *more: Any, **options: Any) -> Any:
        template = real_get(name, *more, **options)
        if name not in ("cases/show.html", "cases/list.html"):
            return template

        class Capture:
            def render(self, context: dict[str, Any]) -> str:
                captured.setdefault(name, (template, _detached(context)))
                return str(template.render(context))
        return Capture()

    portal.templates.get_template = capturing
    warm = running.client()
    warm.login("ib")
    assert warm.get(case_path).status_code == 200
    assert warm.get("/cases").status_code == 200
    portal.templates.get_template = real_get

    def bare(name: str) -> Callable[[Request], HTMLResponse]:
        template, context = captured[name]

        def endpoint(request: Request) -> HTMLResponse:
            return HTMLResponse(template.render(context))
        return endpoint

    bare_sock = bind_socket()
    bare_app = Starlette(routes=[Route("/case", bare("cases/show.html")),
                                 Route("/cases", bare("cases/list.html"))])
    bare_app.state.portal = SimpleNamespace(close=lambda: None)  # the harness stops it so
    bare_running = serve(bare_app, bare_sock, None, **server)  # type: ignore[arg-type]
    results: dict[str, Any] = {}
    try:
        for label, portal_path, bare_path in (("case page", case_path, "/case"),
                                              ("/cases", "/cases", "/cases")):
            for threads in (1, args.threads):
                portal_clients = [running.client() for _ in range(threads)]
                for client in portal_clients:
                    client.login("ib")
                bare_clients = [bare_running.client() for _ in range(threads)]
                rates: dict[str, list[float]] = {"portal": [], "bare": []}
                for index in range(args.rounds):
                    order = ("portal", "bare") if index % 2 == 0 else ("bare", "portal")
                    for which in order:
                        clients = portal_clients if which == "portal" else bare_clients
                        path = portal_path if which == "portal" else bare_path
                        rates[which].append(_rate(clients, path, args.requests))
                results[f"{label}|{threads}"] = {k: statistics.median(v)
                                                 for k, v in rates.items()}
        results["audit"] = _audit_scale(portal, running, args)
        results["failed"] = len(FAILED)
    finally:
        bare_running.stop()
        running.stop()
    return results


def _detached(context: dict[str, Any]) -> dict[str, Any]:
    """The context with its lazy values (``partial``s bound to the request's
    session, e.g. the header's unread count) evaluated now, inside the request.

    Called later by the bare app, such a partial would open a new transaction
    on the finished request's session and never end it: on SQLite that holds
    the write lock (BEGIN IMMEDIATE) and every portal request then waits for
    it and fails closed; and the bare page would not be bare (it ran SQL).
    """
    return {key: _constant(value()) if isinstance(value, partial) else value
            for key, value in context.items()}


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


FAILED: list[str] = []  # answers other than 200 (e.g. 503 when SQLite stays locked)


def _rate(clients: list[Any], path: str, requests: int) -> float:
    def burst(client: Any, count: int) -> None:
        for _ in range(count):
            status = client.get(path).status_code
            if status != 200:
                FAILED.append(f"{path}: {status}")

    share = max(requests // len(clients), 1)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        list(pool.map(lambda c: burst(c, share), clients))
    return share * len(clients) / (time.perf_counter() - start)


def _audit_scale(portal: Any, running: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The FG's pages on logs of growing size (records added on top, by the demo staff)."""
    from portal import demo
    from portal.audit.service import Requester, record
    from portal.db import unit_of_work

    people = [(demo.stable_id("person", p), name) for p, name in
              (("ib", "Ilse Bakker"), ("mentor", "Mirjam de Vries"),
               ("jeugdhulp", "Youssef El Amrani"), ("smw", "Sanne Visser"))]
    dpo = running.client()
    dpo.login("fg")
    out: dict[str, Any] = {}
    written = 0
    start = datetime.now(UTC) - timedelta(days=60)
    for size in sorted(int(s) for s in args.records.split(",")):
        while written < size:
            with unit_of_work(portal.sessions) as db:
                for _ in range(min(5000, size - written)):
                    user_id, name = people[written % len(people)]
                    who = Requester(user_id=user_id, user_name=name, user_role="mentor",
                                    organisation_id=None, session_ref=None, client_address=None)
                    record(db, who, start + timedelta(seconds=written * 50 % (60 * 86400)),
                           event_type="case.view", action="read",
                           outcome="denied" if written % 9 == 0 else "allowed")
                    written += 1
        for label, path in (("landing", "/audit"), ("person", "/audit?person=sanne")):
            timings = []
            for _ in range(args.requests):
                began = time.perf_counter()
                if dpo.get(path).status_code != 200:
                    raise RuntimeError(f"{path} did not answer 200")
                timings.append(time.perf_counter() - began)
            timings.sort()
            out[f"{label}|{size}"] = (statistics.median(timings),
                                      timings[int(len(timings) * 0.95) - 1])
    return out


# -- the driver ---------------------------------------------------------------------------------

# The servers ``--servers`` compares: uvicorn's HTTP parser and event loop.
SERVERS = {"h11+asyncio": ("h11", "asyncio"), "httptools+uvloop": ("httptools", "uvloop")}


def _run_worker(tree: Path, url: str, args: argparse.Namespace,
                server: tuple[str, str] = ("auto", "auto")) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        data_dir.chmod(0o700)
        if url == "sqlite":
            url = f"sqlite:///{data_dir / 'bench.db'}"
        command = [sys.executable, __file__, "--worker", str(tree), "--url", url,
                   "--data-dir", str(data_dir), "--rounds", str(args.rounds),
                   "--requests", str(args.requests), "--threads", str(args.threads),
                   "--cases", str(args.cases), "--records", args.records,
                   "--http", server[0], "--loop", server[1]]
        done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True, cwd=tree)
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def _report(label: str, results: dict[str, dict[str, Any]], threads: int) -> list[str]:
    lines = []
    for page in ("case page", "/cases"):
        for clients in (1, threads):
            cells = []
            for tree, result in results.items():
                rates = result[f"{page}|{clients}"]
                cells.append(f"{tree}: {rates['portal']:6.1f} / {rates['bare']:6.1f} req/s "
                             f"= {rates['portal'] / rates['bare']:.3f}x")
            lines.append(f"{label:<10} {page:<9} {clients:>2} client(s)  " + "   ".join(cells))
    for page in ("landing", "person"):
        for tree, result in results.items():
            sizes = sorted({int(k.split("|")[1]) for k in result["audit"]})
            cells = [f"{size:>7} records: {result['audit'][f'{page}|{size}'][0] * 1000:7.1f} ms "
                     f"(p95 {result['audit'][f'{page}|{size}'][1] * 1000:7.1f})"
                     for size in sizes]
            small, large = (result["audit"][f"{page}|{s}"][0] for s in (sizes[0], sizes[-1]))
            lines.append(f"{label:<10} /audit {page:<8} {tree:<6} " + ", ".join(cells)
                         + f"  -> {large / small:.1f}x")
    for tree, result in results.items():
        lines.append(f"{label:<10} {tree}: {result['failed']} requests not answered 200")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, default=Path("/work/main"))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--records", default="1000,100000")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--servers", action="store_true",
                        help="compare uvicorn's servers on this tree instead of two trees")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--http", default="auto", help=argparse.SUPPRESS)
    parser.add_argument("--loop", default="auto", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker, args.url, args.data_dir, args)))
        return 0
    runs: dict[str, tuple[Path, tuple[str, str]]] = \
        {name: (HERE, server) for name, server in SERVERS.items()} if args.servers else \
        {"before": (args.before.resolve(), ("auto", "auto")), "after": (HERE, ("auto", "auto"))}
    lines: list[str] = []
    engines = [("SQLite", "sqlite")]
    if args.postgres:
        sys.path.insert(0, str(HERE))
        from bench.bench_audit_logging import durable_postgres
        engines.append(("PostgreSQL", ""))
    for label, url in engines:
        if url:
            results = {name: _run_worker(path, url, args, server)
                       for name, (path, server) in runs.items()}
        else:
            results = {}
            for name, (path, server) in runs.items():
                with durable_postgres() as pg_url:
                    results[name] = _run_worker(path, pg_url, args, server)
        lines += _report(label, results, args.threads)
    print(f"portal / bare template (median req/s of {args.rounds} alternating batches of "
          f"{args.requests}), {args.cases} extra cases for the IB'er; the FG's log by size:")
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
