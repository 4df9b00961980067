"""``portal init`` (bootstrap a new portal) and ``portal check`` (the start-up checks)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from portal.db import make_engine, session_factory
from portal.ops import bootstrap
from portal.ops.checks import checking, run_checks
from portal.settings import Settings


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    init = sub.add_parser(
        "init", help="bootstrap: key-encryption key, migrations, first organisations and "
        "administrator (idempotent)")
    init.add_argument("--file", type=Path,
                      help="JSON or TOML with organisations and administrator")
    init.add_argument("--organisation", action="append", default=[], metavar="SLUG,KIND,NAME",
                      help="an organisation to create (repeatable); KIND is school, "
                      "youth_care, samenwerkingsverband, municipality or portal")
    init.add_argument("--admin-idp", help="the identity provider id the administrator "
                      "logs in with")
    init.add_argument("--admin-subject", help="the administrator's subject (sub) claim")
    init.add_argument("--admin-email", help="... or their e-mail claim")
    init.add_argument("--admin-organisation", metavar="SLUG",
                      help="the organisation they administer (default: the operator, "
                      "kind portal)")
    init.set_defaults(func=cmd_init)
    check = sub.add_parser("check", help="run the start-up checks; exit 1 on a problem")
    check.set_defaults(func=cmd_check)


def _settings() -> Settings:
    from portal.app import prepare_settings
    from portal.settings_env import load_settings

    return prepare_settings(load_settings())


def plan_from(args: argparse.Namespace) -> bootstrap.InitPlan:
    plan = bootstrap.read_plan_file(args.file) if args.file else bootstrap.InitPlan()
    organisations = (*plan.organisations,
                     *(bootstrap.parse_organisation_argument(o) for o in args.organisation))
    administrator = plan.administrator
    if args.admin_idp or args.admin_subject or args.admin_email or args.admin_organisation:
        administrator = bootstrap.administrator_spec(
            args.admin_idp, args.admin_subject, args.admin_email, args.admin_organisation,
            "--admin-idp/--admin-subject/--admin-email")
    return bootstrap.InitPlan(organisations=organisations, administrator=administrator)


def cmd_init(args: argparse.Namespace) -> int:
    from portal.audit import keys as audit_keys
    from portal.audit import ledger as audit_ledger
    from portal.vault.keyring import make_key_provider

    settings = _settings()
    engine = make_engine(settings.effective_database_url)
    sessions = session_factory(engine)
    if settings.audit_signing_key:
        audit_ledger.configure(sessions, audit_keys.audit_config(settings))
    try:
        report = bootstrap.run(settings, plan_from(args), engine, sessions,
                               lambda: make_key_provider(settings), datetime.now(UTC))
    except bootstrap.InitRefused as exc:
        print(f"portal init: refused: {exc}", file=sys.stderr)
        return 1
    except IntegrityError:
        print("portal init: another portal init changed the database at the same time; "
              "run it again (it continues where the other left off)", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[:1]
        print(f"portal init: refused: PORTAL_DATABASE_URL: {' '.join(cause)}; fix: check "
              "the URL, that the server runs, and the credentials", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    for line in report.lines:
        print(line)
    print("portal init: done" if report.changed
          else "portal init: nothing to do, everything was already in place")
    return 0


def cmd_check(_: argparse.Namespace) -> int:
    settings = _settings()
    failed = False
    with checking(settings) as context:
        for outcome in run_checks(context):
            problem = outcome.problem
            if problem is None:
                print(f"ok    {outcome.name}")
            elif problem.fatal:
                failed = True
                print(f"FAIL  {outcome.name}: {problem.line()}")
            else:
                print(f"warn  {outcome.name}: {problem.line()}")
    return 1 if failed else 0
