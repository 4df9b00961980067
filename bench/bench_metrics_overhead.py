"""What the metrics cost a request: the portal with and without its request timer.

Usage: .venv/bin/python bench/bench_metrics_overhead.py [--requests 300] [--repeat 3]

First the request timer alone around a no-op app (microseconds per call, in
process: steady on a busy machine), then whole pages.

Serves two portals on one SQLite copy of the demo data (dev mode, loopback),
one as built (request timer middleware, denial and append hooks) and one with
the request timer taken out, and times the same logged-in case-page reads on
each. Reports requests per second and the ratio; the best of ``--repeat``
runs counts, the runs of the two interleaved. A plain script, not a test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal import demo
from portal.app import create_app
from portal.db import make_engine, session_factory, unit_of_work
from portal.metrics.exporter import RequestTimer
from portal.migrate import upgrade
from portal.settings import Settings
from portal.vault.keyring import make_key_provider
from portal.vault.service import Vault
from tests.harness import FakeClock, PortalClient, Running, bind_socket, serve


def start(url: str, data_dir: Path, timed: bool) -> Running:
    sock = bind_socket()
    settings = Settings(mode="dev", database_url=url, data_dir=data_dir,
                        public_url=f"http://127.0.0.1:{sock.getsockname()[1]}")
    app = create_app(settings, clock=FakeClock())
    if not timed:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not RequestTimer]
    return serve(app, sock, FakeClock())


def rate(client: PortalClient, path: str, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        assert client.get(path).status_code == 200
    return requests / (time.perf_counter() - started)


def timer_cost(calls: int, repeat: int) -> tuple[float, float]:
    """Seconds per call of a no-op ASGI app, bare and inside the request timer."""
    import asyncio

    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    async def page(request: object) -> Response:
        return Response("")

    inner = Starlette(routes=[Route("/cases/{case_id}", page)])
    timed = RequestTimer(inner)
    scope = {"type": "http", "method": "GET", "path": "/cases/1", "raw_path": b"/cases/1",
             "query_string": b"", "headers": [], "app": inner, "root_path": ""}

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b""}

    async def send(message: object) -> None:
        return None

    async def loop(app: object) -> float:
        started = time.perf_counter()
        for _ in range(calls):
            await app(dict(scope), receive, send)  # type: ignore[operator]
        return (time.perf_counter() - started) / calls

    best = {False: float("inf"), True: float("inf")}
    for _ in range(repeat):
        best[False] = min(best[False], asyncio.run(loop(inner)))
        best[True] = min(best[True], asyncio.run(loop(timed)))
    return best[False], best[True]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        url = f"sqlite:///{data_dir / 'portal.db'}"
        engine = make_engine(url)
        upgrade(engine)
        settings = Settings(mode="dev", data_dir=data_dir)
        from portal.app import prepare_settings

        settings = prepare_settings(settings)
        with unit_of_work(session_factory(engine)) as db:
            demo.load(db, Vault(make_key_provider(settings)), datetime.now(UTC))
        engine.dispose()
        path = f"/cases/{demo.stable_id('case', demo.DEMO_CASE.key)}"
        portals = {timed: start(url, data_dir, timed) for timed in (False, True)}
        clients = {}
        for timed, running in portals.items():
            clients[timed] = running.client()
            clients[timed].login("mentor")
            rate(clients[timed], path, 20)  # warm up
        results = {False: 0.0, True: 0.0}
        for _ in range(args.repeat):  # interleaved, so load elsewhere hits both alike
            for timed in (False, True):
                results[timed] = max(results[timed], rate(clients[timed], path, args.requests))
        for running in portals.values():
            running.stop()
    bare, timed = timer_cost(20_000, args.repeat)
    print(f"request timer alone:   {(timed - bare) * 1e6:7.1f} µs per request "
          f"(a no-op app: {bare * 1e6:.1f} µs bare, {timed * 1e6:.1f} µs timed)")
    print(f"without request timer: {results[False]:7.1f} requests/s")
    print(f"with request timer:    {results[True]:7.1f} requests/s")
    print(f"ratio (with/without):  {results[True] / results[False]:.3f}")


if __name__ == "__main__":
    main()
