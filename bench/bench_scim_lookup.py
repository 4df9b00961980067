"""How a directory's per-user lookup scales with the organisation's size.

Usage: .venv/bin/python bench/bench_scim_lookup.py [--small 50] [--large 500] [--lookups 100]

A directory (Entra ID, Google) looks every user up by ``userName`` (or
``externalId``) before it writes. The script provisions ``--small`` users over
real HTTP, times ``--lookups`` lookups, grows the organisation to ``--large``
users and times them again, and reports the ratio (large / small): close to 1
means a lookup does not read the whole organisation. It also reports the ratio
for a filter that cannot use the index (``userName sw``), which reads every
user. Plain script, not a test; ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from crypto import LocalKeyFileProvider
from portal import demo
from portal.app import create_app
from portal.db import make_engine, session_factory, unit_of_work
from portal.migrate import upgrade
from portal.settings import Settings
from portal.settings_env import scim_organisation
from portal.vault.service import Vault
from tests.harness import bind_socket, serve

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def provision(http: httpx.Client, start: int, stop: int) -> None:
    for n in range(start, stop):
        response = http.post("/Users", json={"schemas": [USER],
                                             "userName": f"medewerker{n}@baken.test",
                                             "externalId": f"oid-{n}"})
        response.raise_for_status()


def timed(http: httpx.Client, filters: list[str]) -> float:
    """Median seconds per lookup."""
    times = []
    for scim_filter in filters:
        start = time.perf_counter()
        http.get("/Users", params={"filter": scim_filter}).raise_for_status()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=50)
    parser.add_argument("--large", type=int, default=500)
    parser.add_argument("--lookups", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        url = f"sqlite:///{data_dir / 'bench.db'}"
        engine = make_engine(url)
        upgrade(engine)
        with unit_of_work(session_factory(engine)) as db:
            demo.load(db, Vault(LocalKeyFileProvider(data_dir / "keyring.json", create=True)),
                      datetime.now(UTC))
        engine.dispose()
        token = secrets.token_urlsafe(32)
        sock = bind_socket()
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        settings = Settings(mode="dev", public_url=base, database_url=url, data_dir=data_dir,
                            scim_organisations=(scim_organisation("het-baken", token),))
        running = serve(create_app(settings), sock, None)  # type: ignore[arg-type]
        http = httpx.Client(base_url=f"{base}/scim/v2", timeout=60,
                            headers={"Authorization": f"Bearer {token}"})
        try:
            results = {}
            provision(http, 0, args.small)
            for size in (args.small, args.large):
                if size == args.large:
                    provision(http, args.small, args.large)
                picks = [n % args.small for n in range(args.lookups)]
                results[size] = (
                    timed(http, [f'userName eq "medewerker{n}@baken.test"' for n in picks]),
                    timed(http, [f'externalId eq "oid-{n}"' for n in picks]),
                    timed(http, [f'userName sw "medewerker{n}@"' for n in picks[:10]]))
            small, large = results[args.small], results[args.large]
            for index, label in enumerate(("userName eq", "externalId eq", "userName sw")):
                print(f"{label:14s} {args.small:5d} users {small[index] * 1000:7.1f} ms   "
                      f"{args.large:5d} users {large[index] * 1000:7.1f} ms   "
                      f"ratio {large[index] / small[index]:5.2f}")
        finally:
            http.close()
            running.stop()


if __name__ == "__main__":
    main()
