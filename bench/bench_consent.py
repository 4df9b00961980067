"""What consent costs a request: the policy with and without the engine, and the
identifier check of anonymous cases as the number of registered children grows.

Usage: .venv/bin/python bench/bench_consent.py [--repeat 5]

1. ``decide(ITEM_READ)`` on a consent case (the engine runs once per category of
   the item) against ``decide(CASE_VIEW)`` (two table look-ups): the ratio is
   what asking the consent engine adds to one decision.
2. The identifier check of an anonymous case's text: decrypting every registered
   child's name (one data key each, the local keyring) and matching, for 100
   and 1000 children, against matching alone. Reported as time per check.

Best of ``--repeat`` runs. A plain script, not a test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from crypto import LocalKeyFileProvider
from portal.consent.identifiers import find_identifiers, name_patterns
from portal.policy import Action, decide
from portal.vault.models import DataKey
from portal.vault.service import Vault, child_field
from tests.policy._world import IB, TWO_PARENTS, case, consent, item

TEXT = ("Leerling uit groep 7 heeft sinds de herfstvakantie moeite met concentratie. "
        "Thuis is veel veranderd; moeder vertelt dat er zorgen zijn over slapen. ") * 12


def best(fn: Callable[[], None], repeat: int, inner: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - start) / inner)
    return min(times)


def policy(repeat: int) -> None:
    facts = case(adults=TWO_PARENTS, consents=(
        consent("mother", ("behaviour", "health")), consent("father", ("behaviour", "health"))))
    one, two = item("behaviour"), item("behaviour", "health")
    view = best(lambda: decide(IB, Action.CASE_VIEW, facts), repeat, 20000)
    read_one = best(lambda: decide(IB, Action.ITEM_READ, facts, one), repeat, 2000)
    read_two = best(lambda: decide(IB, Action.ITEM_READ, facts, two), repeat, 2000)
    print(f"decide(CASE_VIEW)                 {view * 1e6:8.1f} µs")
    print(f"decide(ITEM_READ), 1 category     {read_one * 1e6:8.1f} µs  "
          f"({read_one / view:5.0f}x CASE_VIEW)")
    print(f"decide(ITEM_READ), 2 categories   {read_two * 1e6:8.1f} µs  "
          f"({read_two / read_one:5.2f}x one category)")


def identifiers(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        keyfile = Path(tmp) / "keyring.json"
        vault = Vault(LocalKeyFileProvider(keyfile, create=True))
        engine = create_engine("sqlite://")
        DataKey.metadata.create_all(engine, tables=[DataKey.__table__])  # type: ignore[list-item]
        now = datetime.now(UTC)
        today = date.today()
        with Session(engine) as db:
            for count in (100, 1000):
                sealed = []
                for i in range(count):
                    child_id = f"child-{count}-{i}"
                    key = vault.new_key(db, "child", child_id, now)
                    sealed.append((child_id, vault.seal(key, f"Voornaam{i} Achternaam{i}",
                                                        child_field(child_id, "name"))))

                def check(rows: list[tuple[str, bytes]] = sealed) -> None:
                    names = [vault.open(db, blob, child_field(cid, "name")) for cid, blob in rows]
                    find_identifiers(TEXT, name_patterns(names), today)

                patterns = name_patterns(f"Voornaam{i} Achternaam{i}" for i in range(count))
                whole = best(check, repeat, 3)
                matching = best(lambda p=patterns: find_identifiers(TEXT, p, today), repeat, 3)
                print(f"identifier check, {count:5d} children: {whole * 1e3:8.1f} ms "
                      f"(matching alone {matching * 1e3:6.1f} ms; decryption is "
                      f"{(whole - matching) / whole:4.0%})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    policy(args.repeat)
    identifiers(args.repeat)


if __name__ == "__main__":
    main()
