"""The ``portal`` command: run the portal, migrate, load demo data, check consent."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from portal import demo
from portal.app import create_app, prepare_settings
from portal.db import make_engine, unit_of_work
from portal.settings import Settings, SettingsError
from portal.settings_env import load_settings


def _settings() -> Settings:
    return prepare_settings(load_settings())


def cmd_db_upgrade(_: argparse.Namespace) -> int:
    from portal.migrate import upgrade

    upgrade(make_engine(_settings().effective_database_url))
    print("database is up to date")
    return 0


def cmd_demo_load(_: argparse.Namespace) -> int:
    from portal.db import session_factory
    from portal.vault.keyring import make_key_provider
    from portal.vault.service import Vault

    settings = _settings()
    if settings.mode != "dev":
        print("demo data is only loaded in dev mode", file=sys.stderr)
        return 2
    engine = make_engine(settings.effective_database_url)
    with unit_of_work(session_factory(engine)) as db:
        added = demo.load(db, Vault(make_key_provider(settings)), datetime.now(UTC))
    print("demo data loaded" if added else "demo data already present")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import os
    from dataclasses import replace

    import uvicorn

    from portal.migrate import upgrade

    settings = _settings()
    if "PORTAL_PUBLIC_URL" not in os.environ:
        settings = replace(settings, public_url=f"http://{args.host}:{args.port}")
    upgrade(make_engine(settings.effective_database_url))
    from portal.ops.startup import check_or_refuse

    check_or_refuse(settings)
    if settings.mode == "dev":
        cmd_demo_load(args)
    app = create_app(settings)
    from portal.documents.cli import sweep

    # Uploads that died with the previous process leave pending rows and keys.
    sweep(app.state.portal.sessions, app.state.portal.vault, app.state.portal.clock())
    print(f"\nMDO Portal: {settings.public_url}/")
    if settings.mode == "dev":
        if not settings.secure_cookies:
            print("dev mode over plain http: the session cookie is not Secure and has no "
                  "__Host- prefix (browsers refuse both without https)")
        print("Demo personas (log in via 'Demo-inlog' and pick one):")
        for person in demo.PEOPLE:
            print(f"  {person.name:<20} {person.description}")
    print()
    # log_config=None: uvicorn keeps the JSON handlers portal.ops.logs installed,
    # whose filter cuts query strings (OIDC codes, states) from its access log.
    try:
        uvicorn.run(app, host=args.host, port=args.port, proxy_headers=args.proxy_headers,
                    log_level=settings.log_level.lower(), log_config=None, server_header=False)
    finally:
        app.state.portal.close()  # stops the background work; seals the access log's tail
    return 0


def cmd_consent_check(args: argparse.Namespace) -> int:
    from portal.consent.scenario import main as check

    return check([args.file])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="migrate, load demo data (dev) and serve")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--proxy-headers", action="store_true",
                     help="trust X-Forwarded-For/Proto from the reverse proxy")
    run.set_defaults(func=cmd_run)
    db = sub.add_parser("db", help="database commands").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="apply all migrations").set_defaults(func=cmd_db_upgrade)
    demo_cmd = sub.add_parser("demo", help="demo data").add_subparsers(dest="demo", required=True)
    demo_cmd.add_parser("load", help="load demo data (idempotent)").set_defaults(
        func=cmd_demo_load)
    consent = sub.add_parser("consent", help="the consent engine").add_subparsers(
        dest="consent", required=True)
    check = consent.add_parser("check", help="evaluate a scenario (JSON file or - for stdin)")
    check.add_argument("file")
    check.set_defaults(func=cmd_consent_check)
    from portal.audit.cli import add_commands as add_audit_commands

    add_audit_commands(sub)
    from portal.witness.cli import add_commands as add_witness_commands

    add_witness_commands(sub)
    from portal.vault.cli import add_commands as add_key_commands

    add_key_commands(sub)
    from portal.documents.cli import add_commands as add_document_commands

    add_document_commands(sub)
    from portal.ops.cli import add_commands as add_ops_commands

    add_ops_commands(sub)
    from portal.login.accounts import add_commands as add_account_commands

    add_account_commands(sub)
    from portal.dpo.supervision import add_commands as add_dpo_commands

    add_dpo_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    import os

    from portal.ops.logs import configure, level_from

    configure(level_from(os.environ.get("PORTAL_LOG_LEVEL")))
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"portal: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
