"""Reading the Settings from ``PORTAL_*`` environment variables and ``*_FILE`` secrets.

Apart from portal/settings.py because parsing is its own concern: each variable's
syntax, range and error message, where the Settings dataclass only says what the
portal runs with (code and tests that build a Settings directly never need this).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from auth.config import IdentityProviderConfig, SessionPolicy
from portal.settings import (
    DEFAULT_DATA_DIR,
    ScimOrganisation,
    Settings,
    SettingsError,
    default_page_threads,
)


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


def _page_threads(env: Mapping[str, str]) -> int:
    value = _integer(env, "PORTAL_PAGE_THREADS", default_page_threads())
    if not 1 <= value <= 256:
        raise SettingsError("PORTAL_PAGE_THREADS must be between 1 and 256")
    return value


def _upload_limit(env: Mapping[str, str]) -> int:
    value = _integer(env, "PORTAL_MAX_UPLOAD_MB", 25)
    # Far above this one upload would hold its transaction open for minutes.
    if not 1 <= value <= 4096:
        raise SettingsError("PORTAL_MAX_UPLOAD_MB must be between 1 and 4096")
    return value


def _log_level(env: Mapping[str, str]) -> str:
    level = env.get("PORTAL_LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise SettingsError("PORTAL_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level
def _invitation_days(env: Mapping[str, str]) -> int:
    value = _integer(env, "PORTAL_INVITATION_DAYS", 14)
    # A link that lives for months is a standing key to a child's family account.
    if not 1 <= value <= 90:
        raise SettingsError("PORTAL_INVITATION_DAYS must be between 1 and 90")
    return value


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
        template_reload=_flag(env, "PORTAL_TEMPLATE_RELOAD", mode == "dev"),
        log_level=_log_level(env),
        max_upload_mb=_upload_limit(env),
        upload_stall_seconds=float(_integer(env, "PORTAL_UPLOAD_STALL_SECONDS", 20)),
        page_threads=_page_threads(env),
        smtp_host=env.get("PORTAL_SMTP_HOST", ""),
        smtp_port=_integer(env, "PORTAL_SMTP_PORT", 25),
        smtp_from=env.get("PORTAL_SMTP_FROM", Settings.smtp_from),
        smtp_starttls=_flag(env, "PORTAL_SMTP_STARTTLS", False),
        smtp_username=env.get("PORTAL_SMTP_USERNAME", ""),
        smtp_password=_read_secret(env, "PORTAL_SMTP_PASSWORD"),
        consent_acr=env.get("PORTAL_CONSENT_ACR", "").strip(),
        invitation_days=_invitation_days(env),
        scim_organisations=_scim_organisations(env),
        **_key_settings(env),
        **_audit_settings(env),
        **_operations_settings(env),
        **_blob_settings(env),
        **_theme_settings(env),
    )


SCIM_TOKEN_MIN_LENGTH = 32


def _scim_organisations(env: Mapping[str, str]) -> tuple[ScimOrganisation, ...]:
    source = env.get("PORTAL_SCIM_TOKENS_FILE")
    if not source:
        return ()
    try:
        raw = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SettingsError(f"PORTAL_SCIM_TOKENS_FILE: cannot read {source}") from exc
    if not isinstance(raw, dict):
        raise SettingsError("PORTAL_SCIM_TOKENS_FILE must hold a JSON object by organisation")
    return tuple(scim_organisation(slug, entry) for slug, entry in raw.items())


def scim_organisation(slug: str, entry: object) -> ScimOrganisation:
    """One organisation's entry: its token, or {"token": ..., "groups": {name: role}}."""
    if isinstance(entry, str):
        entry = {"token": entry}
    if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
        raise SettingsError(f"PORTAL_SCIM_TOKENS_FILE: {slug}: give a token")
    token, groups = entry["token"], entry.get("groups", {})
    if len(token) < SCIM_TOKEN_MIN_LENGTH:
        raise SettingsError(f"PORTAL_SCIM_TOKENS_FILE: {slug}: the token is shorter than "
                            f"{SCIM_TOKEN_MIN_LENGTH} characters")
    if not isinstance(groups, dict) or not all(isinstance(v, str) for v in groups.values()):
        raise SettingsError(f"PORTAL_SCIM_TOKENS_FILE: {slug}: groups maps names to roles")
    return ScimOrganisation(slug=slug, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                            group_roles={str(k): v for k, v in groups.items()})
def _key_settings(env: Mapping[str, str]) -> dict[str, Any]:
    days = _integer(env, "PORTAL_ERASURE_EPOCH_DAYS", 30)
    if not 1 <= days <= 366:
        raise SettingsError("PORTAL_ERASURE_EPOCH_DAYS must be between 1 and 366")
    keys_dir = env.get("PORTAL_KEYS_DIR", "")
    return {"erasure_epoch_days": days, "keys_dir": Path(keys_dir) if keys_dir else None}


def _audit_settings(env: Mapping[str, str]) -> dict[str, Any]:
    every = _integer(env, "PORTAL_AUDIT_CHECKPOINT_EVERY", 1000)
    seconds = _integer(env, "PORTAL_AUDIT_CHECKPOINT_SECONDS", 300)
    if every < 1 or seconds < 1:
        raise SettingsError("PORTAL_AUDIT_CHECKPOINT_EVERY and _SECONDS must be positive")
    directory = env.get("PORTAL_AUDIT_CHECKPOINT_DIR", "")
    url = env.get("PORTAL_AUDIT_CHECKPOINT_URL", "").strip()
    if url and not url.startswith(("https://", "http://")):
        raise SettingsError("PORTAL_AUDIT_CHECKPOINT_URL must be an http(s):// URL")
    witness_vkey = env.get("PORTAL_AUDIT_WITNESS_VKEY", "").strip()
    if url and not witness_vkey:
        raise SettingsError("PORTAL_AUDIT_CHECKPOINT_URL needs PORTAL_AUDIT_WITNESS_VKEY "
                            "(the witness's key, from `portal witness vkey`) to check "
                            "its cosignatures")
    return {
        "audit_witness_vkey": witness_vkey,
        "audit_checkpoint_url": url,
        "audit_checkpoint_token": _read_secret(env, "PORTAL_AUDIT_CHECKPOINT_TOKEN"),
        "audit_retention_years": _retention_years(env),
        "audit_signing_key": _read_secret(env, "PORTAL_AUDIT_SIGNING_KEY"),
        "audit_origin": env.get("PORTAL_AUDIT_ORIGIN", "").strip(),
        "audit_verifier_keys": _words(env, "PORTAL_AUDIT_VERIFIER_KEYS"),
        "audit_checkpoint_every": every,
        "audit_checkpoint_seconds": seconds,
        "audit_checkpoint_dir": Path(directory) if directory else None,
        "audit_dpo_acr": env.get("PORTAL_AUDIT_DPO_ACR", "").strip(),
        "audit_names_for_family": _words(env, "PORTAL_AUDIT_NAMES_FOR_FAMILY"),
    }


MIN_AUDIT_RETENTION_YEARS = 5


def _retention_years(env: Mapping[str, str]) -> int:
    # Five years is the floor for NEN 7513 access logs (the shared
    # domain notes name no shorter legal term); going below it must be a
    # deliberate, visible choice, not a typo.
    years = _integer(env, "PORTAL_AUDIT_RETENTION_YEARS", MIN_AUDIT_RETENTION_YEARS)
    if years < 1:
        raise SettingsError("PORTAL_AUDIT_RETENTION_YEARS must be positive")
    if years < MIN_AUDIT_RETENTION_YEARS and not _flag(
            env, "PORTAL_AUDIT_RETENTION_BELOW_MINIMUM", False):
        raise SettingsError(
            f"PORTAL_AUDIT_RETENTION_YEARS is below {MIN_AUDIT_RETENTION_YEARS} years; set "
            "PORTAL_AUDIT_RETENTION_BELOW_MINIMUM=1 if that is really intended")
    return years


def _words(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(word for word in env.get(name, "").replace(",", " ").split() if word)


def _operations_settings(env: Mapping[str, str]) -> dict[str, Any]:
    interval = _integer(env, "PORTAL_JOBS_INTERVAL_SECONDS", 30)
    port = _integer(env, "PORTAL_METRICS_PORT", 0)
    if interval < 1:
        raise SettingsError("PORTAL_JOBS_INTERVAL_SECONDS must be positive")
    if not 0 <= port <= 65535:
        raise SettingsError("PORTAL_METRICS_PORT must be a port number (0: off)")
    token = _read_secret(env, "PORTAL_METRICS_TOKEN")
    if token and len(token) < 32:
        raise SettingsError("PORTAL_METRICS_TOKEN_FILE must hold at least 32 characters")
    return {"jobs_interval_seconds": float(interval), "metrics_port": port,
            "metrics_address": env.get("PORTAL_METRICS_ADDRESS", "127.0.0.1").strip(),
            "metrics_token": token}


def _blob_settings(env: Mapping[str, str]) -> dict[str, Any]:
    store = env.get("PORTAL_BLOB_STORE", "dir").strip() or "dir"
    if store not in ("dir", "s3", "database"):
        raise SettingsError("PORTAL_BLOB_STORE must be dir, s3 or database")
    bucket = env.get("PORTAL_S3_BUCKET", "").strip()
    if store == "s3" and not bucket:
        raise SettingsError("PORTAL_BLOB_STORE=s3 needs PORTAL_S3_BUCKET")
    blob_dir = env.get("PORTAL_BLOB_DIR", "").strip()
    return {"blob_store": store, "blob_dir": Path(blob_dir) if blob_dir else None,
            "s3_endpoint": env.get("PORTAL_S3_ENDPOINT", "").strip(), "s3_bucket": bucket,
            "s3_region": env.get("PORTAL_S3_REGION", "").strip(),
            "s3_prefix": env.get("PORTAL_S3_PREFIX", "").strip(),
            "s3_access_key_id": _read_secret(env, "PORTAL_S3_ACCESS_KEY_ID"),
            "s3_secret_access_key": _read_secret(env, "PORTAL_S3_SECRET_ACCESS_KEY")}


def _theme_settings(env: Mapping[str, str]) -> dict[str, Any]:
    css = env.get("PORTAL_THEME_CSS", "").strip()
    logo = env.get("PORTAL_LOGO", "").strip()
    return {"theme_css": Path(css) if css else None, "logo": Path(logo) if logo else None}
