"""One typed settings object, read once from ``PORTAL_*`` environment variables.

Secrets have no defaults outside dev mode; every secret can also come from a
file (``PORTAL_X_FILE``), which is how container platforms and systemd hand
them over. Production refuses to start with anything that only makes sense on
a developer's laptop.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

from auth.config import IdentityProviderConfig, SessionPolicy

Mode = Literal["dev", "production"]

DEFAULT_DATA_DIR = Path("var")


class SettingsError(ValueError):
    """A setting is missing, malformed or unsafe for the chosen mode."""


@dataclass(frozen=True)
class Settings:
    mode: Mode = "dev"
    public_url: str = "http://127.0.0.1:8000"
    database_url: str = ""
    data_dir: Path = DEFAULT_DATA_DIR
    session_secret: str = ""
    session_secret_generated: bool = False
    sessions: SessionPolicy = field(default_factory=SessionPolicy)
    dev_idp: bool = True
    identity_providers: tuple[IdentityProviderConfig, ...] = ()
    key_provider: Literal["local", "secret-file", "pkcs11"] = "local"
    keyring_file: Path | None = None
    pkcs11_library: str = ""
    pkcs11_token: str = ""
    pkcs11_pin: str = ""
    default_language: Literal["nl", "en"] = "nl"
    log_level: str = "INFO"
    # Outgoing mail. In dev mode an in-process catcher receives it (/dev/mail).
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "MDO-portaal <no-reply@mdo-portaal.invalid>"
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def cookie_name(self) -> str:
        # The __Host- prefix is only accepted by browsers on Secure cookies.
        return "__Host-mdo_session" if self.secure_cookies else "mdo_session"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'portal.db'}"

    def check(self) -> None:
        """Refuse unsafe combinations; the message names the problem."""
        if self.mode not in ("dev", "production"):
            raise SettingsError(f"PORTAL_MODE must be 'dev' or 'production', not {self.mode!r}")
        if self.mode != "production":
            return
        problems: list[str] = []
        if self.dev_idp:
            problems.append("the development IdP is enabled (set PORTAL_DEV_IDP=0)")
        if not self.session_secret:
            problems.append("PORTAL_SESSION_SECRET (or PORTAL_SESSION_SECRET_FILE) is missing")
        elif self.session_secret_generated:
            problems.append("the session secret was generated for development")
        if not self.secure_cookies:
            problems.append("PORTAL_PUBLIC_URL is not https://, so cookies would not be Secure")
        if self._sqlite_in_temp_dir():
            problems.append("the database is SQLite in a temporary directory")
        if self.key_provider == "local":
            problems.append(
                "the key-encryption key would be a generated local file "
                "(set PORTAL_KEY_PROVIDER=secret-file or pkcs11)"
            )
        if not self.identity_providers:
            problems.append("no identity provider is configured (PORTAL_IDPS_FILE)")
        if not self.smtp_host:
            problems.append("no mail server is configured (PORTAL_SMTP_HOST); the DPO "
                            "must be notified of break-glass use")
        if problems:
            raise SettingsError("refusing to start in production: " + "; ".join(problems))

    def _sqlite_in_temp_dir(self) -> bool:
        url = self.effective_database_url
        if not url.startswith("sqlite"):
            return False
        path = url.split("///", 1)[-1]
        if path in ("", ":memory:"):
            return True
        resolved = Path(path).resolve()
        temp_roots = {Path(tempfile.gettempdir()).resolve(), Path("/tmp").resolve()}  # noqa: S108
        return any(resolved.is_relative_to(root) for root in temp_roots)


def _read_secret(env: Mapping[str, str], name: str) -> str:
    file_name = env.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"{name}_FILE: cannot read {file_name}: {exc.strerror}") from exc
    return env.get(name, "")


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 1/0, true/false, yes/no or on/off, not {raw!r}")


def _integer(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    try:
        return int(raw) if raw else default
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from exc


def _minutes(env: Mapping[str, str], name: str, default: int) -> timedelta:
    value = _integer(env, name, default)
    if value <= 0:
        raise SettingsError(f"{name} must be positive")
    return timedelta(minutes=value)


def _identity_providers(env: Mapping[str, str]) -> tuple[IdentityProviderConfig, ...]:
    source = env.get("PORTAL_IDPS_FILE")
    if not source:
        return ()
    try:
        raw = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SettingsError(f"PORTAL_IDPS_FILE: cannot read {source}: {exc}") from exc
    if not isinstance(raw, list):
        raise SettingsError("PORTAL_IDPS_FILE must hold a JSON list of identity providers")
    try:
        return tuple(IdentityProviderConfig.from_mapping(item) for item in raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise SettingsError(f"PORTAL_IDPS_FILE: {exc}") from exc


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from the environment (``os.environ`` by default)."""
    env = os.environ if env is None else env
    mode = env.get("PORTAL_MODE", "dev")
    if mode not in ("dev", "production"):
        raise SettingsError(f"PORTAL_MODE must be 'dev' or 'production', not {mode!r}")
    key_provider = env.get("PORTAL_KEY_PROVIDER", "local")
    if key_provider not in ("local", "secret-file", "pkcs11"):
        raise SettingsError("PORTAL_KEY_PROVIDER must be local, secret-file or pkcs11")
    language = env.get("PORTAL_DEFAULT_LANGUAGE", "nl")
    if language not in ("nl", "en"):
        raise SettingsError("PORTAL_DEFAULT_LANGUAGE must be nl or en")
    keyring = env.get("PORTAL_KEYRING_FILE")
    return Settings(
        mode=mode,  # type: ignore[arg-type]  # checked above
        public_url=env.get("PORTAL_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        database_url=_read_secret(env, "PORTAL_DATABASE_URL"),
        data_dir=Path(env.get("PORTAL_DATA_DIR", str(DEFAULT_DATA_DIR))),
        session_secret=_read_secret(env, "PORTAL_SESSION_SECRET"),
        sessions=SessionPolicy(
            idle_timeout=_minutes(env, "PORTAL_SESSION_IDLE_MINUTES", 15),
            absolute_timeout=_minutes(env, "PORTAL_SESSION_ABSOLUTE_MINUTES", 8 * 60),
        ),
        dev_idp=_flag(env, "PORTAL_DEV_IDP", mode == "dev"),
        identity_providers=_identity_providers(env),
        key_provider=key_provider,  # type: ignore[arg-type]  # checked above
        keyring_file=Path(keyring) if keyring else None,
        pkcs11_library=env.get("PORTAL_PKCS11_LIBRARY", ""),
        pkcs11_token=env.get("PORTAL_PKCS11_TOKEN", ""),
        pkcs11_pin=_read_secret(env, "PORTAL_PKCS11_PIN"),
        default_language=language,  # type: ignore[arg-type]  # checked above
        log_level=env.get("PORTAL_LOG_LEVEL", "INFO").upper(),
        smtp_host=env.get("PORTAL_SMTP_HOST", ""),
        smtp_port=_integer(env, "PORTAL_SMTP_PORT", 25),
        smtp_from=env.get("PORTAL_SMTP_FROM", Settings.smtp_from),
        smtp_starttls=_flag(env, "PORTAL_SMTP_STARTTLS", False),
        smtp_username=env.get("PORTAL_SMTP_USERNAME", ""),
        smtp_password=_read_secret(env, "PORTAL_SMTP_PASSWORD"),
    )
