"""What the metrics cost a request: the portal with and without its request timer.

Usage: .venv/bin/python bench/bench_metrics_overhead.py [--requests 300] [--repeat 3]

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
    print(f"without request timer: {results[False]:7.1f} requests/s")
    print(f"with request timer:    {results[True]:7.1f} requests/s")
    print(f"ratio (with/without):  {results[True] / results[False]:.3f}")


if __name__ == "__main__":
    main()
