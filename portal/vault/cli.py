"""``portal keys …``: rotate the key-encryption key, retire old versions, show the state."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crypto import CryptoError, KeyUnavailable
from portal.db import make_engine, session_factory
from portal.settings import Settings
from portal.vault import epochs, kek_state, rotation
from portal.vault.keyring import make_key_provider
from portal.vault.models import DataKey

BAR_WIDTH = 30


class ProgressBar:
    """``[#####.....] 120/300 data keys re-wrapped`` on stderr, redrawn in place."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        self.stream.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
                          f"{done}/{total} data keys re-wrapped")
        self.stream.flush()

    def end(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = sub.add_parser("keys", help="key-encryption key rotation").add_subparsers(
        dest="keys", required=True)
    rotate = keys.add_parser("rotate", help="new KEK version; re-wrap every data key under it")
    rotate.add_argument("--resume", action="store_true",
                        help="finish an interrupted rotation without creating another version")
    rotate.add_argument("--batch-size", type=int, default=500)
    rotate.set_defaults(func=cmd_rotate)
    retire = keys.add_parser("retire", help="destroy an old KEK version (refused while in use)")
    retire.add_argument("version", type=int)
    retire.set_defaults(func=cmd_retire)
    status = keys.add_parser("status", help="KEK versions, the data keys under each, and "
                                            "erasures still recoverable from backups")
    status.set_defaults(func=cmd_status)
    epoch = keys.add_parser(
        "epoch", help="after erasures: rotate, re-wrap and retire every older KEK version, "
                      "so no earlier backup can unwrap the erased keys (idempotent; for cron)")
    epoch.add_argument("--now", action="store_true",
                       help="run at once instead of when the oldest erasure is due")
    epoch.set_defaults(func=cmd_epoch)
    carry = keys.add_parser(
        "carry-forward", help="after restoring an old backup: take its living data keys, "
                              "wrapped under the current KEK, from a newer copy")
    carry.add_argument("source_url", help="database URL of the live database or newest backup")
    carry.set_defaults(func=cmd_carry_forward)
    rebind = keys.add_parser(
        "rebind", help="once, after `portal db upgrade`: re-seal content stored before "
                       "migration 0018 with the columns that decide access bound to it")
    rebind.set_defaults(func=cmd_rebind)


def _settings() -> Settings:
    # The same settings (and production checks) as ``portal run``.
    from portal.app import prepare_settings
    from portal.settings_env import load_settings

    return prepare_settings(load_settings())


Command = Callable[[argparse.Namespace, Settings, sessionmaker[Session]], int]


def _with_database(command: Command) -> Callable[[argparse.Namespace], int]:
    """Run ``command`` with the portal's settings and database; the engine is closed after."""
    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        settings = _settings()
        engine = make_engine(settings.effective_database_url)
        try:
            return command(args, settings, session_factory(engine))
        finally:
            engine.dispose()
    return run


@_with_database
def cmd_rotate(args: argparse.Namespace, settings: Settings,
               sessions: sessionmaker[Session]) -> int:
    provider = make_key_provider(settings)
    bar = ProgressBar(sys.stderr)
    try:
        if args.resume:
            version = provider.current_version()
            done = rotation.rewrap(sessions, provider, batch_size=args.batch_size,
                                   progress=bar)
        else:
            version, done = rotation.rotate(sessions, provider, batch_size=args.batch_size,
                                            progress=bar)
    except (CryptoError, KeyboardInterrupt) as exc:
        bar.end()
        left = rotation.pending(sessions, provider.current_version())
        print(f"portal keys rotate: interrupted ({type(exc).__name__}: {exc}); {left} data "
              "key(s) still on older versions; run `portal keys rotate --resume`",
              file=sys.stderr)
        return 1
    bar.end()
    print(f"KEK version {version} is current; {done} data key(s) re-wrapped")
    return 0


@_with_database
def cmd_retire(args: argparse.Namespace, settings: Settings,
               sessions: sessionmaker[Session]) -> int:
    provider = make_key_provider(settings)
    try:
        rotation.retire(sessions, provider, args.version, datetime.now(UTC))
    except (rotation.RetireRefused, CryptoError) as exc:
        print(f"portal keys retire: refused: {exc}", file=sys.stderr)
        return 1
    print(f"KEK version {args.version} retired")
    return 0


@_with_database
def cmd_status(_: argparse.Namespace, settings: Settings,
               sessions: sessionmaker[Session]) -> int:
    provider = make_key_provider(settings)
    try:
        versions, current = provider.versions(), provider.current_version()
    except KeyUnavailable as exc:
        print(f"portal keys status: {exc}", file=sys.stderr)
        return 1
    with sessions() as db:
        counts = dict(db.execute(select(DataKey.kek_version, func.count())
                                 .group_by(DataKey.kek_version)).all())
        states = kek_state.states(db)
        pending = epochs.outstanding(db, settings.erasure_epoch_days)
    for version in sorted(set(versions) | set(counts)):
        mark = " (current)" if version == current else ""
        state = states.get(version)
        disabled = "  disabled for wrapping" if state and state.state == "disabled" else ""
        missing = "" if version in versions else "  MISSING FROM THE KEYRING"
        print(f"KEK version {version}{mark}: {counts.get(version, 0)} data key(s)"
              f"{disabled}{missing}")
    print(_debt_line(pending, datetime.now(UTC)))
    return 0


def _debt_line(pending: epochs.Outstanding, now: datetime) -> str:
    if not pending.erasures or pending.deadline is None or pending.oldest is None:
        return "Erased and unrecoverable from backups: nothing outstanding"
    overdue = "  OVERDUE: run `portal keys epoch --now`" if pending.overdue(now) else ""
    return (f"Erased but still recoverable from backups taken before the erasure: "
            f"{pending.erasures} erasure(s), {pending.keys} data key(s), the oldest on "
            f"{pending.oldest:%Y-%m-%d}; until the key epoch, due by "
            f"{pending.deadline:%Y-%m-%d %H:%M} UTC (`portal keys epoch`){overdue}")


@_with_database
def cmd_epoch(args: argparse.Namespace, settings: Settings,
              sessions: sessionmaker[Session]) -> int:
    provider = make_key_provider(settings)
    now = datetime.now(UTC)
    bar = ProgressBar(sys.stderr)
    try:
        result = epochs.run(sessions, provider, now, settings.erasure_epoch_days,
                            force=args.now, progress=bar)
    except (rotation.RetireRefused, CryptoError, KeyboardInterrupt) as exc:
        bar.end()
        print(f"portal keys epoch: interrupted ({type(exc).__name__}: {exc}); run it again "
              "to finish", file=sys.stderr)
        return 1
    if not result.ran:
        print(f"portal keys epoch: nothing due. {_debt_line(result.pending, now)}"
              if result.pending else "portal keys epoch: nothing due")
        return 0
    bar.end()
    retired = ", ".join(str(v) for v in result.retired) or "none"
    print(f"KEK version {result.kek_version} is current; {result.rewrapped} data key(s) "
          f"re-wrapped; retired KEK version(s): {retired}; {result.cleared} erasure(s) now "
          "unrecoverable from earlier backups")
    return 0


@_with_database
def cmd_carry_forward(args: argparse.Namespace, _: Settings,
                      sessions: sessionmaker[Session]) -> int:
    source = make_engine(args.source_url)
    try:
        result = epochs.carry_forward(session_factory(source), sessions)
    finally:
        source.dispose()
    print(f"{result.carried} data key(s) carried forward; {result.dead} erased since this "
          "backup stay unrecoverable")
    return 0


@_with_database
def cmd_rebind(_: argparse.Namespace, settings: Settings,
               sessions: sessionmaker[Session]) -> int:
    # The packages that own the content re-seal it; this command only hands them the keys.
    from portal.documents.blobs import make_blob_stores
    from portal.documents.rebind import rebind_versions
    from portal.meetings.binding import rebind_meetings
    from portal.minutes.rebind import rebind_corrections, rebind_sections
    from portal.vault.service import Vault

    vault = Vault(make_key_provider(settings))
    skipped: list[str] = []
    try:
        versions = rebind_versions(sessions, vault, skipped, make_blob_stores(settings))
        sections = rebind_sections(sessions, vault, skipped)
        corrections = rebind_corrections(sessions, vault, skipped)
        meetings, items = rebind_meetings(sessions, vault, skipped)
    except CryptoError as exc:
        print(f"portal keys rebind: stopped ({type(exc).__name__}: {exc}); what was done is "
              "kept, run it again after fixing the cause", file=sys.stderr)
        return 1
    print(f"{versions} document version(s) and {sections} minutes section(s) re-sealed "
          f"with their access facts bound, and {corrections} correction(s)")
    print(f"{meetings} meeting agenda(s) and {items} action item(s) re-sealed with their "
          "access facts bound")
    if skipped:
        print(f"portal keys rebind: {len(skipped)} item(s) did not open and were left as "
              f"they are (damaged or edited; check them): {', '.join(skipped)}",
              file=sys.stderr)
        return 1
    return 0
