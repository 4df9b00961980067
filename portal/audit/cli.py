"""``portal audit …``: verify the access log, seal and export checkpoints, show the vkey.

``portal audit verify`` exits 0 when the log is intact, 1 naming the first
changed, deleted, inserted, reordered or truncated record (or the forged
checkpoint), and 2 when it cannot run (no key to verify with). Progress goes
to stderr so the verdict on stdout stays one line.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from portal.audit import health
from portal.audit import keys as audit_keys
from portal.audit.anchors import NotExtended
from portal.audit.checkpoint import CheckpointError
from portal.audit.checkpoint_files import SplitView, write_checkpoint_file
from portal.audit.cosignature import parse_cosigner_vkey
from portal.audit.ledger import all_checkpoints, seal
from portal.audit.replay import (
    CheckpointSource,
    database_checkpoints,
    file_checkpoints,
    tail_checks,
    verify_database,
)
from portal.audit.witness import WitnessTarget, fetch_latest
from portal.db import make_engine, session_factory, unit_of_work
from portal.settings import Settings


def _settings() -> Settings:
    from portal.app import prepare_settings
    from portal.settings_env import load_settings

    return prepare_settings(load_settings())


class _Progress:
    """Progress on stderr: rewritten in place on a terminal, a line now and then otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        share = f" ({done * 100 // total}%)" if total else ""
        rate = done / max(time.monotonic() - self.started, 1e-6)
        line = f"verified {done:,} of {total:,} records{share}, {rate:,.0f}/s"
        print(f"\r{line}" if self.tty else line, end="" if self.tty else "\n",
              file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.tty:
            print(file=sys.stderr)


def cmd_verify(args: argparse.Namespace) -> int:
    settings = _settings()
    try:
        signing_key = (audit_keys.load_signing_key(settings.audit_signing_key)
                       if settings.audit_signing_key and not args.only_vkeys else None)
        trusted = audit_keys.trusted_keys(settings.effective_audit_origin, signing_key,
                                          (*settings.audit_verifier_keys, *args.vkey))
    except ValueError as exc:
        print(f"portal audit verify: {exc}", file=sys.stderr)
        return 2
    if not trusted:
        print("portal audit verify: no key to verify checkpoints with (give --vkey)",
              file=sys.stderr)
        return 2
    try:
        witness = _witness_checkpoint(settings, args, trusted)
    except (ValueError, CheckpointError, requests.RequestException) as exc:
        print(f"portal audit verify: cannot check against the witness: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.effective_database_url)
    try:
        # Files first: a file is written only after its checkpoint committed, so the
        # database read next has every checkpoint a file read here names (the other
        # way round, a seal in between would look like a checkpoint deleted).
        files: list[CheckpointSource] = []
        for directory in (*([settings.audit_checkpoint_dir]
                            if settings.audit_checkpoint_dir else []), *args.checkpoint_dir):
            files += file_checkpoints(Path(directory))
        sources = [*database_checkpoints(engine), *files, *witness]
        progress = None if args.quiet else _Progress()
        report = verify_database(engine, trusted, sources, origin=args.origin or None,
                                 columns=not args.chain_only, progress=progress,
                                 progress_every=args.progress_every)
        report = tail_checks(engine, report)
        if progress is not None:
            progress.done()
    finally:
        engine.dispose()
    print(report.describe())
    return 0 if report.ok else 1


def _witness_checkpoint(settings: Settings, args: argparse.Namespace,
                        trusted: list[tuple[str, Ed25519PublicKey]]) -> list[CheckpointSource]:
    """The witness's latest cosigned checkpoint, when a witness is configured or given."""
    url = args.witness_url or settings.audit_checkpoint_url
    vkey = args.witness_vkey or settings.audit_witness_vkey
    if not url or args.no_witness:
        return []
    if not vkey:
        raise ValueError("no witness key (PORTAL_AUDIT_WITNESS_VKEY or --witness-vkey)")
    origin = args.origin or settings.effective_audit_origin
    note = fetch_latest(WitnessTarget(url, parse_cosigner_vkey(vkey)), origin, trusted)
    if note is None:
        return []
    return [CheckpointSource(note, f"the witness's latest cosigned checkpoint ({url})",
                             external=True)]


def cmd_seal(_: argparse.Namespace) -> int:
    settings = _settings()
    config = audit_keys.audit_config(settings)
    engine = make_engine(settings.effective_database_url)
    try:
        with unit_of_work(session_factory(engine)) as db:
            checkpoint = seal(db, config, datetime.now(UTC))
            size = checkpoint.size if checkpoint else None
            note = checkpoint.note if checkpoint else None
    except NotExtended as exc:
        with unit_of_work(session_factory(engine)) as db:
            health.alarm(db, datetime.now(UTC), "seal", str(exc))
        print(f"portal audit seal: refused: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if size is None or note is None:
        print("nothing new to seal")
        return 0
    print(f"sealed a checkpoint over {size} records")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    settings = _settings()
    engine = make_engine(settings.effective_database_url)
    try:
        with unit_of_work(session_factory(engine)) as db:
            notes = all_checkpoints(db)
    finally:
        engine.dispose()
    for size, note in notes:
        try:
            write_checkpoint_file(Path(args.directory), size, note)
        except SplitView as exc:
            engine = make_engine(settings.effective_database_url)
            try:
                with unit_of_work(session_factory(engine)) as db:
                    health.alarm(db, datetime.now(UTC), "split-view", str(exc))
            finally:
                engine.dispose()
            print(f"portal audit export-checkpoints: {exc}", file=sys.stderr)
            return 1
    print(f"{len(notes)} checkpoints in {args.directory}")
    return 0


def cmd_vkey(_: argparse.Namespace) -> int:
    settings = _settings()
    try:
        key = audit_keys.load_signing_key(settings.audit_signing_key)
    except (ValueError, CheckpointError) as exc:
        print(f"portal audit vkey: {exc}", file=sys.stderr)
        return 2
    print(audit_keys.vkey_of(settings.effective_audit_origin, key))
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="the access log").add_subparsers(dest="audit",
                                                                          required=True)
    verify = audit.add_parser("verify", help="replay the chain and the signed checkpoints")
    verify.add_argument("--checkpoint-dir", action="append", default=[],
                        help="also check the checkpoint copies in this directory")
    verify.add_argument("--vkey", action="append", default=[],
                        help="trust this verifier key (portal audit vkey prints it)")
    verify.add_argument("--only-vkeys", action="store_true",
                        help="trust only --vkey / PORTAL_AUDIT_VERIFIER_KEYS, not the "
                             "configured signing key")
    verify.add_argument("--origin", default="", help="require checkpoints of this log")
    verify.add_argument("--chain-only", action="store_true",
                        help="skip checking the searchable columns against the sealed "
                             "records (faster; the chain and checkpoints are still checked)")
    verify.add_argument("--witness-url", default="",
                        help="also require the log to extend this witness's latest cosigned "
                             "checkpoint (default: PORTAL_AUDIT_CHECKPOINT_URL)")
    verify.add_argument("--witness-vkey", default="",
                        help="the witness's key (default: PORTAL_AUDIT_WITNESS_VKEY)")
    verify.add_argument("--no-witness", action="store_true",
                        help="do not ask the configured witness")
    verify.add_argument("--quiet", action="store_true", help="no progress on stderr")
    verify.add_argument("--progress-every", type=int, default=50_000, help=argparse.SUPPRESS)
    verify.set_defaults(func=cmd_verify)
    audit.add_parser("seal", help="seal a checkpoint now").set_defaults(func=cmd_seal)
    export = audit.add_parser("export-checkpoints", help="write every checkpoint to DIR")
    export.add_argument("directory")
    export.set_defaults(func=cmd_export)
    audit.add_parser("vkey", help="print the checkpoints' verifier key").set_defaults(
        func=cmd_vkey)
