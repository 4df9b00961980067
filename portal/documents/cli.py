"""``portal documents sweep``: take back uploads that died half-way (crash, kill)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from portal.db import make_engine, session_factory, unit_of_work
from portal.documents.upload import SWEEP_GRACE, sweep_pending
from portal.jobs.leases import process_holder, release_job_lease, take_job_lease
from portal.settings import Settings
from portal.vault.keyring import make_key_provider
from portal.vault.service import Vault

SWEEP_LEASE = timedelta(minutes=5)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    documents = sub.add_parser("documents", help="minutes and attachments").add_subparsers(
        dest="documents", required=True)
    sweep = documents.add_parser(
        "sweep", help="delete pending upload versions left by a crash, and destroy their keys")
    sweep.add_argument("--grace-minutes", type=float,
                       default=SWEEP_GRACE.total_seconds() / 60,
                       help="leave uploads alone that wrote a segment this recently")
    sweep.set_defaults(func=cmd_sweep)
    migrate = documents.add_parser(
        "migrate-storage", help="move file contents stored as database rows into the "
                                "configured blob store (resumable: run again after a crash)")
    migrate.add_argument("--limit", type=int, default=None,
                         help="stop after this many versions (default: all)")
    migrate.set_defaults(func=cmd_migrate_storage)


def sweep(sessions: sessionmaker[Session], vault: Vault, now: datetime,
          grace: timedelta = SWEEP_GRACE) -> int | None:
    """One sweep in a transaction of its own (also run by ``portal run`` at start-up).

    It holds the cluster's ``upload-sweep`` lease while it runs, so workers
    starting together sweep one after the other, never the same rows at once;
    None when a background sweep holds the lease right now."""
    holder = process_holder()
    with unit_of_work(sessions) as db:
        if not take_job_lease(db, "upload-sweep", holder, now, SWEEP_LEASE):
            return None
        swept = sweep_pending(db, vault, now, grace)
        release_job_lease(db, "upload-sweep", holder, now)
        return swept


def cmd_sweep(args: argparse.Namespace) -> int:
    settings = _settings()
    sessions = session_factory(make_engine(settings.effective_database_url))
    # Deleting rows and wrapped keys needs no KEK: nothing is unwrapped here.
    vault = Vault(make_key_provider(settings))
    swept = sweep(sessions, vault, datetime.now(UTC), timedelta(minutes=args.grace_minutes))
    if swept is None:
        print("another portal process is sweeping right now; try again in a few minutes")
        return 1
    print(f"{swept} pending upload version(s) deleted")
    purged, queued = purge_objects(sessions, settings)
    print(f"{purged} object(s) of erased or discarded versions deleted from the blob store"
          + (f", {queued} still queued (store unreachable?)" if queued else ""))
    return 0


def purge_objects(sessions: sessionmaker[Session], settings: Settings) -> tuple[int, int]:
    """Delete the blob store objects queued for deletion that are due; (deleted, left)."""
    from sqlalchemy import func, select

    from portal.documents.blobs import make_blob_stores
    from portal.documents.garbage import purge_blobs, sweep_temporary
    from portal.documents.models import BlobGarbage

    blobs = make_blob_stores(settings)
    sweep_temporary(blobs)
    with unit_of_work(sessions) as db:
        purged = purge_blobs(db, blobs, datetime.now(UTC))
    with unit_of_work(sessions) as db:
        left = db.scalar(select(func.count()).select_from(BlobGarbage)) or 0
    return purged, left


def _settings() -> Settings:
    from portal.app import prepare_settings
    from portal.settings_env import load_settings

    return prepare_settings(load_settings())


def cmd_migrate_storage(args: argparse.Namespace) -> int:
    from portal.documents.blobs import make_blob_stores
    from portal.documents.migrate import MigrationReport, migrate_storage

    settings = _settings()
    if settings.blob_store == "database":
        print("PORTAL_BLOB_STORE is 'database': set it to dir or s3 first")
        return 2
    sessions = session_factory(make_engine(settings.effective_database_url))

    def progress(report: MigrationReport) -> None:
        if (report.moved + report.skipped) % 100 == 0:
            print(f"... {report.moved} moved, {report.skipped} skipped", flush=True)

    report = migrate_storage(sessions, make_blob_stores(settings), lambda: datetime.now(UTC),
                             limit=args.limit, progress=progress)
    print(f"{report.moved} version(s) moved to the {settings.blob_store} store "
          f"({report.bytes} bytes of ciphertext), {report.skipped} skipped, "
          f"{report.remaining} still in the database")
    return 0
