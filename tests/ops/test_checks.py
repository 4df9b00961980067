"""Start-up checks: each problem is named in one line with its fix; production refuses."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from crypto import Pkcs11Provider
from portal.db import make_engine
from portal.mail.catcher import MailCatcher
from portal.migrate import upgrade
from portal.ops import checks
from portal.ops.checks import Problem
from portal.ops.startup import check_or_refuse
from portal.settings import Settings
from tests.harness import bind_socket
from tests.ops.conftest import (
    PIN,
    ROOT,
    TOKEN,
    UNUSED_TOKEN,
    portal_command,
    production_env,
    with_database,
)

HEAD = checks.head_revision()
BEHIND = f"{int(HEAD) - 1:04d}"  # the revision before head


def write_keyring(path: Path, mode: int = 0o600) -> None:
    path.write_text("1:" + "A" * 43 + "=\n")
    path.chmod(mode)


def problem_of(check: checks.Check, settings: Settings, env: dict[str, str] | None = None,
               **context: object) -> Problem | None:
    with checks.checking(settings, env or {}, **context) as ctx:  # type: ignore[arg-type]
        return check(ctx)


def test_an_unreachable_database_is_named(production_settings: Settings, tmp_path: Path) -> None:
    settings = with_database(production_settings,
                             f"postgresql+psycopg://portal@/portal?host={tmp_path}")
    problem = problem_of(checks.check_database, settings)
    assert problem is not None and problem.fatal
    assert problem.line().startswith("PORTAL_DATABASE_URL: the database cannot be reached: ")
    assert "fix: check the URL" in problem.line()


def test_a_database_behind_head_is_named(empty_url: str, production_settings: Settings) -> None:
    settings = with_database(production_settings, empty_url)
    problem = problem_of(checks.check_migrations, settings)
    assert problem is not None
    assert f"the database is at migration none (empty), not {HEAD}" in problem.line()
    assert "run `portal init`" in problem.fix
    engine = make_engine(empty_url)
    upgrade(engine, BEHIND)
    engine.dispose()
    assert f"at migration {BEHIND}, not {HEAD}" in str(
        problem_of(checks.check_migrations, settings))
    engine = make_engine(empty_url)
    upgrade(engine)
    engine.dispose()
    assert problem_of(checks.check_migrations, settings) is None


def test_a_missing_key_encryption_key_names_portal_init(production_settings: Settings) -> None:
    problem = problem_of(checks.check_key_provider, production_settings)
    assert problem is not None and problem.setting == "PORTAL_KEY_PROVIDER"
    assert "key provider secret-file (" in problem.message
    assert "has no current key-encryption key" in problem.message
    assert problem.fix == "run `portal init` to create the first one"


def test_a_keyring_readable_by_others_is_unusable(production_settings: Settings) -> None:
    assert production_settings.keyring_file is not None
    write_keyring(production_settings.keyring_file, 0o644)
    problem = problem_of(checks.check_key_provider, production_settings)
    assert problem is not None and "is not usable" in problem.message
    assert "check PORTAL_KEYRING_FILE" in problem.fix
    production_settings.keyring_file.chmod(0o600)
    assert problem_of(checks.check_key_provider, production_settings) is None


def test_softhsm_wrong_pin_and_empty_token(softhsm: str, production_settings: Settings) -> None:
    settings = replace(production_settings, key_provider="pkcs11", pkcs11_library=softhsm,
                       pkcs11_token=UNUSED_TOKEN, pkcs11_pin="0000")
    wrong = problem_of(checks.check_key_provider, settings,
                       key_provider=Pkcs11Provider(softhsm, UNUSED_TOKEN, "0000"))
    assert wrong is not None and "PinIncorrect" in wrong.message
    assert "PORTAL_PKCS11_PIN" in wrong.fix
    settings = replace(settings, pkcs11_token=TOKEN, pkcs11_pin=PIN)
    provider = Pkcs11Provider(softhsm, TOKEN, PIN)
    assert provider.versions() == [], "this module's token starts empty"
    empty = problem_of(checks.check_key_provider, settings, key_provider=provider)
    assert empty is not None and "run `portal init`" in empty.fix
    provider.rotate()
    assert problem_of(checks.check_key_provider, settings, key_provider=provider) is None


def test_secret_files_readable_by_group_or_others_are_named(tmp_path: Path,
                                                            production_settings: Settings
                                                            ) -> None:
    secret = tmp_path / "session-secret"
    secret.write_text("s")
    secret.chmod(0o640)
    env = {"PORTAL_SESSION_SECRET_FILE": str(secret)}
    problem = problem_of(checks.check_secret_files, production_settings, env)
    assert problem is not None
    assert problem.line() == (f"PORTAL_SESSION_SECRET_FILE: {secret} is readable by group or "
                              f"others (mode 0640); fix: chmod 600 {secret}")
    secret.chmod(0o600)
    assert problem_of(checks.check_secret_files, production_settings, env) is None
    idp_secret = tmp_path / "idp-secret"
    idp_secret.write_text("s")
    idp_secret.chmod(0o604)
    idps = tmp_path / "idps.json"
    idps.write_text(f'[{{"id": "school-idp", "client_secret_file": "{idp_secret}"}}]')
    problem = problem_of(checks.check_secret_files, production_settings,
                         {**env, "PORTAL_IDPS_FILE": str(idps)})
    assert problem is not None
    assert problem.setting == "PORTAL_IDPS_FILE (school-idp: client_secret_file)"


def test_an_unreachable_mail_server_is_a_warning(production_settings: Settings) -> None:
    closed = bind_socket()  # bound, never listening: connections are refused
    try:
        settings = replace(production_settings, smtp_port=closed.getsockname()[1])
        problem = problem_of(checks.check_mail_server, settings)
    finally:
        closed.close()
    assert problem is not None and not problem.fatal
    assert problem.setting == "PORTAL_SMTP_HOST" and "mail waits in the outbox" in problem.message
    catcher = MailCatcher().start()
    try:
        reachable = replace(production_settings, smtp_port=catcher.port)
        assert problem_of(checks.check_mail_server, reachable) is None
    finally:
        catcher.stop()


def test_an_unloadable_audit_signing_key_is_named(production_settings: Settings) -> None:
    settings = replace(production_settings, audit_signing_key="not a key")
    problem = problem_of(checks.check_audit_signing_key, settings)
    assert problem is not None and problem.setting == "PORTAL_AUDIT_SIGNING_KEY_FILE"
    assert problem_of(checks.check_audit_signing_key, production_settings) is None


def test_an_unmigrated_database_is_one_problem_not_several(
        empty_url: str, production_settings: Settings) -> None:
    with checks.checking(with_database(production_settings, empty_url), {}) as context:
        names = [o.name for o in checks.run_checks(context)]
    assert "migrations" in names and "administrator" not in names


def test_no_administrator_is_a_warning(empty_url: str, production_settings: Settings) -> None:
    engine = make_engine(empty_url)
    upgrade(engine)
    engine.dispose()
    problem = problem_of(checks.check_administrator, with_database(production_settings,
                                                                   empty_url))
    assert problem is not None and not problem.fatal
    assert problem.line() == "administrator: no administrator yet; fix: run `portal init`"


def test_the_database_checks_are_skipped_when_it_cannot_be_reached(
        production_settings: Settings, tmp_path: Path) -> None:
    settings = with_database(production_settings,
                             f"postgresql+psycopg://portal@/portal?host={tmp_path}")
    with checks.checking(settings, {}) as context:
        outcomes = checks.run_checks(context)
    names = [o.name for o in outcomes]
    assert "migrations" not in names and "administrator" not in names
    assert "key provider" in names, "checks that need no database still run"


def test_production_refuses_to_start_with_one_line(empty_postgres_url: str,
                                                   tmp_path: Path) -> None:
    """``uvicorn portal.asgi:app`` on a database nobody initialised: one line, no traceback."""
    catcher = MailCatcher().start()
    try:
        env = production_env(tmp_path, empty_postgres_url, catcher.port)
        started = subprocess.run(
            [sys.executable, "-m", "uvicorn", "portal.asgi:app", "--port", "0"], env=env,
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        assert started.returncode != 0
        assert "Traceback" not in started.stderr
        refusals = [line for line in started.stderr.splitlines() if "refusing" in line]
        assert refusals == ["portal: refusing to start: PORTAL_DATABASE_URL: the database is "
                            f"at migration none (empty), not {HEAD}; fix: run `portal init` (a "
                            "new portal) or `portal db upgrade`"]

        check = portal_command("check", env=env)
        assert check.returncode == 1
        assert "FAIL  migrations: PORTAL_DATABASE_URL" in check.stdout
        assert "FAIL  key provider: PORTAL_KEY_PROVIDER: key provider secret-file" \
            in check.stdout
    finally:
        catcher.stop()


def test_no_usable_key_refuses_start_up_naming_the_provider(
        empty_postgres_url: str, production_settings: Settings,
        capsys: pytest.CaptureFixture[str]) -> None:
    engine = make_engine(empty_postgres_url)
    upgrade(engine)
    engine.dispose()
    settings = with_database(production_settings, empty_postgres_url)
    with pytest.raises(SystemExit) as exited:
        check_or_refuse(settings, {})
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"portal: refusing to start: PORTAL_KEY_PROVIDER: key provider secret-file "
        f"({settings.keyring_file}) has no current key-encryption key; fix: run `portal "
        "init` to create the first one"]


def test_portal_run_refuses_without_a_key_in_one_line(empty_postgres_url: str,
                                                       tmp_path: Path) -> None:
    """``portal run`` migrates, then checks: no key-encryption key, no serving."""
    env = production_env(tmp_path, empty_postgres_url, 25)
    run = portal_command("run", "--port", "0", env=env)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert [line for line in run.stderr.splitlines() if "refusing" in line] == [
        f"portal: refusing to start: PORTAL_KEY_PROVIDER: key provider secret-file "
        f"({tmp_path / 'kek'}) has no current key-encryption key; fix: run `portal init` "
        "to create the first one"]


def test_a_weak_session_secret_refuses_start_up_in_one_line(empty_postgres_url: str,
                                                            tmp_path: Path) -> None:
    env = production_env(tmp_path, empty_postgres_url, 25)
    Path(env["PORTAL_SESSION_SECRET_FILE"]).write_text("0123456789" * 4)
    started = subprocess.run(
        [sys.executable, "-c", "import portal.asgi"], env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=120, check=False)
    assert started.returncode == 2
    assert started.stderr.strip().splitlines() == [
        "portal: refusing to start in production: PORTAL_SESSION_SECRET is "
        "not random enough (generate one with `openssl rand -base64 32`)"]


def test_a_key_file_that_opens_no_stored_key_refuses_start_up(
        empty_url: str, production_settings: Settings, tmp_path: Path) -> None:
    """The right format and a round trip are not enough: a key file from another
    install (or another backup) opens none of the data keys already stored, and
    every case page would then fail. Start-up names it in one line instead."""
    from datetime import UTC, datetime

    from crypto import SecretFileProvider
    from portal.db import session_factory
    from portal.vault.service import Vault

    settings = with_database(production_settings, empty_url)
    engine = make_engine(empty_url)
    upgrade(engine)
    original = tmp_path / "original-kek"
    original.write_text("1:" + "B" * 43 + "=\n")
    original.chmod(0o600)
    with session_factory(engine)() as db:
        Vault(SecretFileProvider(original)).new_key(db, "case", "c-1", datetime.now(UTC))
        db.commit()
    engine.dispose()
    assert settings.keyring_file is not None
    write_keyring(settings.keyring_file)  # version 1 as well, other bytes
    problem = problem_of(checks.check_stored_keys, settings)
    assert problem is not None and problem.fatal
    assert "does not open the 1 data key(s) stored under key-encryption key version 1" in (
        problem.message)
    assert "the one in the same backup as this database" in problem.fix
    assert problem_of(checks.check_stored_keys,
                      replace(settings, keyring_file=original)) is None
