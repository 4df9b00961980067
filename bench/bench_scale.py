"""The pages as the data grows: a small and a large database, same users, in one run.

Usage: .venv/bin/python bench/bench_scale.py [--small 1000,10000] [--large 100000,1000000]
       [--requests 30] [--postgres]

For each size (cases, access records) a worker process builds a fresh database:
the demo data (the users measured and their own cases, identical in both), then
that many more cases of another school (``create_case_rows``: real keys, real
encryption) chaired by its IB'er, then that many access records by 500 other
professionals about those cases, appended through the real chain
(``portal.audit.service.entry`` + ``record_all``: canonical encoding, hash chain,
Merkle state and signed checkpoints, in transactions of 5,000). It then serves
the portal under uvicorn (as bench_protected_page.py does) and times, in
interleaved rounds (median and p95 of ``--requests``):

- the case page and ``/cases`` (the IB'er), ``/cases`` pages 1 and 9 of the
  other school's IB'er, who chairs every bulk case, ``/family`` and "who looked"
  (``/child-access/<child>``, a parent),
- the FG's ``/audit`` without and with a person filter, and both exports
  (CSV and FHIR JSON, filtered to the demo case).

The report gives each page on both sizes and the ratio large / small. How long
building took is printed too: the issue's target of 100,000 cases / 1,000,000
records takes long on a shared 2-core machine, so the size reached is stated in
the output. This is a plain script, not a test.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
BATCH = 5000
STAFF = 500  # other professionals writing the bulk of the log


def _pages() -> list[tuple[str, str, str]]:
    from portal import demo

    case = demo.stable_id("case", demo.DEMO_CASE.key)
    child = demo.stable_id("child", demo.DEMO_CASE.child)
    return [
        ("case page", "ib", f"/cases/{case}"),
        ("/cases", "ib", "/cases"),
        # The other school's IB'er chairs every bulk case: 1,000 in the small database,
        # all of them in the large one (the user in 600 cases, and far more).
        ("/cases bulk p1", "ib-lichtpunt", "/cases"),
        ("/cases bulk p9", "ib-lichtpunt", "/cases?page=9"),
        ("/family", "ouder1", "/family"),
        ("who looked", "ouder1", f"/child-access/{child}"),
        ("/audit", "fg", "/audit"),
        ("/audit?person", "fg", "/audit?person=sanne"),
        ("export csv", "fg", f"/audit/export.csv?case={case}"),
        ("export fhir", "fg", f"/audit/export.json?case={case}"),
    ]


def _build(portal: Any, cases: int, records: int) -> dict[str, float]:
    """``cases`` cases and ``records`` access records that none of the measured users own."""
    from portal import demo
    from portal.audit.service import Requester, entry, record_all
    from portal.cases.creation import NewCase, create_case_rows
    from portal.cases.models import CaseRole, LegalBasis
    from portal.db import unit_of_work

    now = datetime.now(UTC)
    chair = demo.stable_id("person", "ib-lichtpunt")
    school = demo.stable_id("org", "het-lichtpunt")
    case_ids: list[str] = []
    began = time.perf_counter()
    while len(case_ids) < cases:
        with unit_of_work(portal.sessions) as db:
            for _ in range(min(500, cases - len(case_ids))):
                case_id = str(uuid.uuid4())
                create_case_rows(
                    db, portal.vault, now - timedelta(days=90, minutes=len(case_ids)),
                    case_id=case_id, created_by=chair, organisation_id=school,
                    new=NewCase(child_id=None, anonymous=True, title=f"Casus {len(case_ids)}",
                                purpose="Overleg", legal_basis=LegalBasis.CONSENT),
                    participants=[(chair, CaseRole.CHAIR)])
                case_ids.append(case_id)
    took_cases = time.perf_counter() - began
    staff = [Requester(user_id=str(uuid.uuid4()), user_name=f"Medewerker {n}",
                       user_role="mentor", organisation_id=school,
                       session_ref=f"{n:016x}", client_address="127.0.0.1")
             for n in range(STAFF)]
    start = now - timedelta(days=60)
    step = timedelta(days=59) / max(records, 1)
    written = 0
    began = time.perf_counter()
    while written < records:
        with unit_of_work(portal.sessions) as db:
            batch = []
            for _ in range(min(BATCH, records - written)):
                batch.append(entry(
                    staff[written % STAFF], start + step * written, event_type="case.view",
                    action="read", outcome="denied" if written % 50 == 0 else "allowed",
                    case_id=case_ids[written % len(case_ids)] if case_ids else None,
                    object_type="case"))
                written += 1
            record_all(db, batch)
    return {"cases_s": took_cases, "records_s": time.perf_counter() - began}


def _worker(url: str, data_dir: Path, cases: int, records: int, requests: int
            ) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from crypto import LocalKeyFileProvider
    from portal import demo
    from portal.app import create_app
    from portal.db import make_engine, session_factory, unit_of_work
    from portal.migrate import upgrade
    from portal.settings import Settings
    from portal.vault.service import Vault
    from tests.harness import bind_socket, serve

    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(session_factory(engine)) as db:
        demo.load(db, Vault(LocalKeyFileProvider(data_dir / "keyring.json", create=True)),
                  datetime.now(UTC))
    engine.dispose()
    sock = bind_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(Settings(mode="dev", public_url=base, database_url=url, data_dir=data_dir))
    running = serve(app, sock, None)  # type: ignore[arg-type]
    try:
        built = _build(app.state.portal, cases, records)
        clients = {}
        for persona in ("ib", "ib-lichtpunt", "ouder1", "fg"):
            clients[persona] = running.client()
            clients[persona].login(persona)
        pages = _pages()
        timings: dict[str, list[float]] = {label: [] for label, _, _ in pages}
        for _label, persona, path in pages:  # warm up (and check) each page once
            status = clients[persona].get(path).status_code
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
        for _ in range(requests):
            for label, persona, path in pages:
                began = time.perf_counter()
                status = clients[persona].get(path).status_code
                timings[label].append(time.perf_counter() - began)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}")
    finally:
        running.stop()
    out: dict[str, Any] = {"built": built}
    for label, values in timings.items():
        values.sort()
        out[label] = (statistics.median(values), values[math.ceil(len(values) * 0.95) - 1])
    return out


def _run(url: str, cases: int, records: int, requests: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        data_dir.chmod(0o700)
        if url == "sqlite":
            url = f"sqlite:///{data_dir / 'bench.db'}"
        command = [sys.executable, __file__, "--worker", "--url", url, "--data-dir",
                   str(data_dir), "--cases", str(cases), "--records", str(records),
                   "--requests", str(requests)]
        done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True, cwd=HERE)
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def _size(text: str) -> tuple[int, int]:
    cases, records = (int(part) for part in text.split(","))
    return cases, records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=_size, default=(1000, 10_000))
    parser.add_argument("--large", type=_size, default=(100_000, 1_000_000))
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cases", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--records", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.url, args.data_dir, args.cases, args.records,
                                 args.requests)))
        return 0
    sys.path.insert(0, str(HERE))
    engines = [("SQLite", "sqlite")]
    if args.postgres:
        engines.append(("PostgreSQL", ""))
    for label, url in engines:
        results = {}
        for name, (cases, records) in (("small", args.small), ("large", args.large)):
            if url:
                results[name] = _run(url, cases, records, args.requests)
            else:
                from bench.bench_audit_logging import durable_postgres

                with durable_postgres() as pg_url:
                    results[name] = _run(pg_url, cases, records, args.requests)
            built = results[name]["built"]
            print(f"{label:<10} {name}: {cases:,} cases in {built['cases_s']:.0f} s, "
                  f"{records:,} records in {built['records_s']:.0f} s")
        print(f"{label:<10} {'page':<14} {'small median / p95':>22} {'large median / p95':>22}"
              f"  large/small (median, p95)")
        for page, _, _ in _pages():
            small, large = results["small"][page], results["large"][page]
            print(f"{label:<10} {page:<14} {small[0] * 1000:9.1f} / {small[1] * 1000:7.1f} ms "
                  f"{large[0] * 1000:9.1f} / {large[1] * 1000:7.1f} ms"
                  f"  {large[0] / small[0]:5.2f}x  {large[1] / small[1]:5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
