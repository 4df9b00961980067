"""Start-up checks: refuse to start rather than fail on every request.

Each check is a named function that returns ``None`` or a ``Problem`` naming
the setting and the fix in one line. Production runs them before serving
(``portal.asgi``, ``portal run``) and refuses on the first fatal one;
``portal check`` runs them all on demand. A warning (the mail server) is
reported but never refuses: the outbox keeps mail until the server is back.
"""

from __future__ import annotations

import json
import os
import smtplib
import stat
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from crypto import CryptoError, KeyProvider, WrappedKey, new_data_key
from portal.audit.keys import load_signing_key
from portal.db import make_engine, session_factory
from portal.migrate import ROOT
from portal.ops.administrator import administrator_state
from portal.ops.bootstrap import (
    database_revision,
    describe_provider,
    keyring_path,
    provider_fix,
)
from portal.settings import Settings, SettingsError
from portal.theme import load_theme
from portal.vault.keyring import make_key_provider
from portal.vault.models import DataKey

SMTP_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Problem:
    setting: str
    message: str
    fix: str
    fatal: bool = True

    def line(self) -> str:
        return f"{self.setting}: {self.message}; fix: {self.fix}"


@dataclass
class CheckContext:
    """What the checks share: settings, the environment, and lazily opened resources."""

    settings: Settings
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    key_provider: KeyProvider | None = None
    _engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.effective_database_url)
        return self._engine

    def provider(self) -> KeyProvider:
        if self.key_provider is None:
            self.key_provider = make_key_provider(self.settings)
        return self.key_provider

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


Check = Callable[[CheckContext], Problem | None]


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0][:200]


def check_secret_files(context: CheckContext) -> Problem | None:
    for setting, path in _secret_files(context.env):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError as exc:
            return Problem(setting, f"cannot read {path} ({exc.strerror})",
                           "point it at the secret file")
        if mode & 0o077:
            return Problem(setting, f"{path} is readable by group or others (mode {mode:04o})",
                           f"chmod 600 {path}")
    return None


def _secret_files(env: Mapping[str, str]) -> Iterator[tuple[str, Path]]:
    for name, value in sorted(env.items()):
        if name.startswith("PORTAL_") and name.endswith("_FILE") and value \
                and name not in ("PORTAL_IDPS_FILE", "PORTAL_KEYRING_FILE"):
            yield name, Path(value)
    # The providers' own secret files (client secrets, private keys).
    idps = env.get("PORTAL_IDPS_FILE")
    if not idps:
        return
    try:
        providers = json.loads(Path(idps).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # the settings already refused an unreadable file
    for provider in providers if isinstance(providers, list) else []:
        for key, value in provider.items() if isinstance(provider, dict) else []:
            if key.endswith("_file") and isinstance(value, str):
                yield f"PORTAL_IDPS_FILE ({provider.get('id')}: {key})", Path(value)


def check_database(context: CheckContext) -> Problem | None:
    try:
        with context.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return Problem("PORTAL_DATABASE_URL", f"the database cannot be reached: "
                       f"{_first_line(exc)}", "check the URL, that the server runs, and the "
                       "credentials")
    return None


@cache
def head_revision() -> str | None:
    """The newest migration this code brings (the same for every database)."""
    return ScriptDirectory(str(ROOT / "migrations")).get_current_head()


def check_migrations(context: CheckContext) -> Problem | None:
    try:
        current = database_revision(context.engine)
    except SQLAlchemyError as exc:
        return Problem("PORTAL_DATABASE_URL", f"cannot read the schema version: "
                       f"{_first_line(exc)}", "check the database")
    head = head_revision()
    if current != head:
        return Problem("PORTAL_DATABASE_URL", f"the database is at migration "
                       f"{current or 'none (empty)'}, not {head}",
                       "run `portal init` (a new portal) or `portal db upgrade`")
    return None


def check_key_provider(context: CheckContext) -> Problem | None:
    settings = context.settings
    name = describe_provider(settings)
    missing = Problem("PORTAL_KEY_PROVIDER", f"{name} has no current key-encryption key",
                      "run `portal init` to create the first one")
    if settings.key_provider != "pkcs11" and not keyring_path(settings).exists():
        return missing
    try:
        provider = context.provider()
        if not provider.versions():
            return missing
        # Usable, not only present: the current key must wrap and unwrap.
        dek = new_data_key()
        if provider.unwrap(provider.wrap(dek)) != dek:
            raise CryptoError("the current key-encryption key does not round-trip")
    except (CryptoError, ValueError, OSError) as exc:
        return Problem("PORTAL_KEY_PROVIDER", f"{name} is not usable: {exc}",
                       provider_fix(settings))
    return None


def check_stored_keys(context: CheckContext) -> Problem | None:
    """Every key-encryption key version that wraps stored data keys opens one of them.

    A wrong key file, another HSM token or a keyring restored from a different
    backup passes the round trip above but opens nothing already stored: then
    every case page would fail. Refuse at start-up and say so instead.
    """
    settings = context.settings
    name = describe_provider(settings)
    try:
        with context.engine.connect() as connection:
            samples = connection.execute(
                select(DataKey.kek_version, func.count(), func.min(DataKey.id))
                .group_by(DataKey.kek_version).order_by(DataKey.kek_version)).all()
            for version, count, key_id in samples:
                wrapped = connection.scalar(select(DataKey.wrapped).where(DataKey.id == key_id))
                if wrapped is None:
                    continue  # erased between the two reads
                try:
                    context.provider().unwrap(WrappedKey(int(version), bytes(wrapped)))
                except CryptoError as exc:
                    return Problem("PORTAL_KEY_PROVIDER",
                                   f"{name} does not open the {count} data key(s) stored under "
                                   f"key-encryption key version {version} ({_first_line(exc)})",
                                   "configure the key file or token that wrapped them (the one "
                                   "in the same backup as this database); "
                                   + provider_fix(settings) + (
                                       " (dev mode: or remove the data directory to start "
                                       "afresh)" if settings.mode == "dev" else ""))
    except SQLAlchemyError:
        return None  # the database checks name that problem
    except (ValueError, OSError):
        return None  # the key-provider check names that problem
    return None


def check_audit_signing_key(context: CheckContext) -> Problem | None:
    settings = context.settings
    if not settings.audit_signing_key:
        if settings.mode != "production":
            return None
        return Problem("PORTAL_AUDIT_SIGNING_KEY_FILE", "the access log's signing key is "
                       "missing", "openssl genpkey -algorithm ed25519 -out KEY; chmod 600 KEY")
    try:
        load_signing_key(settings.audit_signing_key)
    except ValueError as exc:
        return Problem("PORTAL_AUDIT_SIGNING_KEY_FILE", str(exc),
                       "openssl genpkey -algorithm ed25519 -out KEY; chmod 600 KEY")
    return None


def check_mail_server(context: CheckContext) -> Problem | None:
    settings = context.settings
    if not settings.smtp_host:
        return None  # dev mode catches mail in-process; production refuses this earlier
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                          timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            smtp.noop()
    except (OSError, smtplib.SMTPException) as exc:
        return Problem("PORTAL_SMTP_HOST", f"the mail server {where} cannot be reached "
                       f"({_first_line(exc)}); mail waits in the outbox",
                       "check PORTAL_SMTP_HOST/PORT and the network", fatal=False)
    return None


def check_administrator(context: CheckContext) -> Problem | None:
    try:
        with session_factory(context.engine)() as db:
            state = administrator_state(db)
    except SQLAlchemyError:
        return None  # the database checks name that problem
    if state == "none":
        return Problem("administrator", "no administrator yet", "run `portal init`",
                       fatal=False)
    return None


def check_theme(context: CheckContext) -> Problem | None:
    """The deployment's theme files (portal/theme): the same reading ``create_app`` does."""
    try:
        load_theme(context.settings)
    except SettingsError as exc:
        setting, _, message = str(exc).partition(": ")
        return Problem(setting, message, "point it at a readable file of the right kind "
                       "(docs/operations.md, \"The deployment's look\")")
    return None


# In order, the causes before their consequences; the checks that read the
# database are skipped when it cannot be reached or is not migrated (that one
# problem is named, not its echoes).
CHECKS: list[tuple[str, Check]] = [
    ("secret files", check_secret_files),
    ("database", check_database),
    ("migrations", check_migrations),
    ("key provider", check_key_provider),
    ("stored keys", check_stored_keys),
    ("audit signing key", check_audit_signing_key),
    ("mail server", check_mail_server),
    ("administrator", check_administrator),
    ("theme", check_theme),
]
NEEDS_DATABASE = frozenset({"migrations", "stored keys", "administrator"})
NEEDS_SCHEMA = frozenset({"stored keys", "administrator"})
NEEDS_PROVIDER = frozenset({"stored keys"})


@dataclass(frozen=True)
class Outcome:
    name: str
    problem: Problem | None


def run_checks(context: CheckContext, *, stop_at_fatal: bool = False) -> list[Outcome]:
    """Every check in order (or up to the first fatal problem)."""
    outcomes: list[Outcome] = []
    database_down = schema_behind = provider_down = False
    for name, check in CHECKS:
        if ((database_down and name in NEEDS_DATABASE) or (schema_behind and name in NEEDS_SCHEMA)
                or (provider_down and name in NEEDS_PROVIDER)):
            continue
        problem = check(context)
        outcomes.append(Outcome(name, problem))
        database_down = database_down or (name == "database" and problem is not None)
        schema_behind = schema_behind or (name == "migrations" and problem is not None)
        provider_down = provider_down or (name == "key provider" and problem is not None)
        if stop_at_fatal and problem is not None and problem.fatal:
            break
    return outcomes


@contextmanager
def checking(settings: Settings, env: Mapping[str, str] | None = None,
             key_provider: KeyProvider | None = None) -> Iterator[CheckContext]:
    context = CheckContext(settings, dict(os.environ if env is None else env), key_provider)
    try:
        yield context
    finally:
        context.close()
