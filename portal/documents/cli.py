"""``portal documents sweep``: take back uploads that died half-way (crash, kill)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from portal.db import make_engine, session_factory, unit_of_work
from portal.documents.upload import SWEEP_GRACE, sweep_pending
from portal.settings import Settings
from portal.vault.keyring import make_key_provider
from portal.vault.service import Vault


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    documents = sub.add_parser("documents", help="minutes and attachments").add_subparsers(
        dest="documents", required=True)
    sweep = documents.add_parser(
        "sweep", help="delete pending upload versions left by a crash, and destroy their keys")
    sweep.add_argument("--grace-minutes", type=float,
                       default=SWEEP_GRACE.total_seconds() / 60,
                       help="leave uploads alone that wrote a segment this recently")
    sweep.set_defaults(func=cmd_sweep)


def sweep(sessions: sessionmaker[Session], vault: Vault, now: datetime,
          grace: timedelta = SWEEP_GRACE) -> int:
    """One sweep in a transaction of its own (also run by ``portal run`` at start-up)."""
    with unit_of_work(sessions) as db:
        return sweep_pending(db, vault, now, grace)


def cmd_sweep(args: argparse.Namespace) -> int:
    settings = _settings()
    sessions = session_factory(make_engine(settings.effective_database_url))
    # Deleting rows and wrapped keys needs no KEK: nothing is unwrapped here.
    vault = Vault(make_key_provider(settings))
    swept = sweep(sessions, vault, datetime.now(UTC), timedelta(minutes=args.grace_minutes))
    print(f"{swept} pending upload version(s) deleted")
    return 0


def _settings() -> Settings:
    from portal.app import prepare_settings
    from portal.settings import load_settings

    return prepare_settings(load_settings())
