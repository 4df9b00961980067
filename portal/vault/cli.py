"""``portal keys …``: rotate the key-encryption key, retire old versions, show the state."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from sqlalchemy import func, select

from crypto import CryptoError, KeyUnavailable
from portal.db import make_engine, session_factory
from portal.settings import Settings
from portal.vault import rotation
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
    status = keys.add_parser("status", help="KEK versions and the data keys under each")
    status.set_defaults(func=cmd_status)


def _settings() -> Settings:
    # The same settings (and production checks) as ``portal run``.
    from portal.app import prepare_settings
    from portal.settings import load_settings

    return prepare_settings(load_settings())


def cmd_rotate(args: argparse.Namespace) -> int:
    settings = _settings()
    provider = make_key_provider(settings)
    sessions = session_factory(make_engine(settings.effective_database_url))
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


def cmd_retire(args: argparse.Namespace) -> int:
    settings = _settings()
    provider = make_key_provider(settings)
    sessions = session_factory(make_engine(settings.effective_database_url))
    try:
        rotation.retire(sessions, provider, args.version)
    except (rotation.RetireRefused, CryptoError) as exc:
        print(f"portal keys retire: refused: {exc}", file=sys.stderr)
        return 1
    print(f"KEK version {args.version} retired")
    return 0


def cmd_status(_: argparse.Namespace) -> int:
    settings = _settings()
    provider = make_key_provider(settings)
    sessions = session_factory(make_engine(settings.effective_database_url))
    try:
        versions, current = provider.versions(), provider.current_version()
    except KeyUnavailable as exc:
        print(f"portal keys status: {exc}", file=sys.stderr)
        return 1
    with sessions() as db:
        counts = dict(db.execute(select(DataKey.kek_version, func.count())
                                 .group_by(DataKey.kek_version)).all())
    for version in sorted(set(versions) | set(counts)):
        mark = " (current)" if version == current else ""
        missing = "" if version in versions else "  MISSING FROM THE KEYRING"
        print(f"KEK version {version}{mark}: {counts.get(version, 0)} data key(s){missing}")
    return 0
