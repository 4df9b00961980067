"""Production refuses to start with development settings, naming each problem."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from portal.app import prepare_settings
from portal.settings import Settings, SettingsError
from portal.settings_env import load_settings

# The access log's checkpoint signing key (an Ed25519 PKCS#8 PEM, test-only).
AUDIT_KEY_PEM = ("-----BEGIN PRIVATE KEY-----\n"
                 "MC4CAQAwBQYDK2VwBCIEIHbCm6W2Qd6oqx3xjb7Kq3vA8s3nSxXzZ1u3lWm8Hn5y\n"
                 "-----END PRIVATE KEY-----\n")


def production(tmp_path: Path, idp: dict[str, object] | None = None,
               **env: str) -> dict[str, str]:
    secret = tmp_path / "session-secret"
    secret.write_text(secrets.token_urlsafe(32))
    idps = tmp_path / "idps.json"
    idps.write_text(json.dumps([{
        "id": "school", "issuer": "https://login.school.example", "client_id": "portal",
        "client_secret": "from-a-vault", "organisations": ["het-baken"],
        "role_map": {"ib": "care_coordinator"},
        "min_acr": "http://eidas.europa.eu/LoA/substantial", **(idp or {})}]))
    audit_key = tmp_path / "audit-signing-key.pem"
    audit_key.write_text(AUDIT_KEY_PEM)
    for path in (secret, audit_key):
        path.chmod(0o600)
    return {"PORTAL_MODE": "production", "PORTAL_PUBLIC_URL": "https://mdo.example",
            "PORTAL_AUDIT_SIGNING_KEY_FILE": str(audit_key),
            "PORTAL_AUDIT_ORIGIN": "mdo.example/access-log",
            "PORTAL_DATABASE_URL": "postgresql+psycopg://portal@db/portal",
            "PORTAL_SESSION_SECRET_FILE": str(secret), "PORTAL_IDPS_FILE": str(idps),
            "PORTAL_KEY_PROVIDER": "secret-file", "PORTAL_DEV_IDP": "0",
            "PORTAL_SMTP_HOST": "smtp.example", **env}


def test_a_proper_production_configuration_starts(tmp_path: Path) -> None:
    settings = prepare_settings(load_settings(production(tmp_path)))
    assert settings.secure_cookies and settings.cookie_name == "__Host-mdo_session"
    assert settings.identity_providers[0].organisations == ("het-baken",)


@pytest.mark.parametrize(("change", "problem"), [
    ({"PORTAL_DEV_IDP": "1"}, "development IdP is enabled"),
    ({"PORTAL_SESSION_SECRET_FILE": ""}, "PORTAL_SESSION_SECRET"),
    ({"PORTAL_PUBLIC_URL": "http://mdo.example"}, "cookies would not be Secure"),
    ({"PORTAL_DATABASE_URL": "sqlite:////tmp/portal.db"}, "SQLite in a temporary directory"),
    ({"PORTAL_KEY_PROVIDER": "local"}, "generated local file"),
    ({"PORTAL_IDPS_FILE": ""}, "no identity provider"),
    ({"PORTAL_SMTP_HOST": ""}, "no mail server"),
])
def test_production_refuses_dev_settings(tmp_path: Path, change: dict[str, str],
                                         problem: str) -> None:
    with pytest.raises(SettingsError, match=problem):
        prepare_settings(load_settings(production(tmp_path, **change)))


@pytest.mark.parametrize(("secret", "problem"), [
    ("short-but-random-Q7v", "shorter than 32 bytes"),
    ("x" * 64, "not random enough"),
    ("abababababababababababababababababababab", "not random enough"),
    ("password" * 5, "not random enough"),
])
def test_production_refuses_a_weak_session_secret(tmp_path: Path, secret: str,
                                                  problem: str) -> None:
    env = production(tmp_path)
    Path(env["PORTAL_SESSION_SECRET_FILE"]).write_text(secret)
    with pytest.raises(SettingsError, match=f"PORTAL_SESSION_SECRET is {problem}"):
        prepare_settings(load_settings(env))


# Stable ids: pytest-xdist workers must collect the same test names.
@pytest.mark.parametrize("secret", [secrets.token_urlsafe(32), secrets.token_hex(32),
                                    "openssl-rand-base64-32:" + secrets.token_urlsafe(32)],
                         ids=["token_urlsafe", "token_hex", "prefixed"])
def test_random_session_secrets_are_accepted(tmp_path: Path, secret: str) -> None:
    env = production(tmp_path)
    Path(env["PORTAL_SESSION_SECRET_FILE"]).write_text(secret)
    assert prepare_settings(load_settings(env)).session_secret == secret


@pytest.mark.parametrize(("idp", "problem"), [
    ({"issuer": "http://login.school.example"}, "'school' has an issuer that is not https://"),
    ({"min_acr": None}, "'school' has no min_acr"),
])
def test_production_refuses_an_identity_provider_without_https_or_min_acr(
        tmp_path: Path, idp: dict[str, object], problem: str) -> None:
    with pytest.raises(SettingsError, match=f"PORTAL_IDPS_FILE: identity provider {problem}"):
        prepare_settings(load_settings(production(tmp_path, idp=idp)))


def test_an_unknown_log_level_is_named() -> None:
    with pytest.raises(SettingsError, match="PORTAL_LOG_LEVEL"):
        load_settings({"PORTAL_LOG_LEVEL": "chatty"})
    assert load_settings({"PORTAL_LOG_LEVEL": "debug"}).log_level == "DEBUG"


def test_bad_values_are_named() -> None:
    with pytest.raises(SettingsError, match="PORTAL_SESSION_IDLE_MINUTES"):
        load_settings({"PORTAL_SESSION_IDLE_MINUTES": "soon"})
    with pytest.raises(SettingsError, match="PORTAL_MODE"):
        load_settings({"PORTAL_MODE": "staging"})


def test_dev_mode_generates_private_secrets(tmp_path: Path) -> None:
    settings = prepare_settings(load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")}))
    secret = tmp_path / "data" / "session-secret"
    assert settings.session_secret == secret.read_text()
    assert secret.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    assert prepare_settings(load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
                            ).session_secret == settings.session_secret


def test_concurrent_first_starts_agree_on_one_secret(tmp_path: Path) -> None:
    """Several workers starting on an empty data directory must not read a half-written file."""
    from concurrent.futures import ThreadPoolExecutor

    from portal.devkeys import ensure_secret_file

    def start(index: int) -> str:
        return ensure_secret_file(tmp_path / "secret", lambda: f"secret-{index}" * 1000)

    with ThreadPoolExecutor(8) as pool:
        seen = set(pool.map(start, range(64)))
    assert len(seen) == 1
    assert seen == {(tmp_path / "secret").read_text()}
    assert [p.name for p in tmp_path.iterdir()] == ["secret"], "no temporary files are left"


def test_no_secret_shows_in_the_settings_repr() -> None:
    shown = {"database_url": "postgresql://portal:db-pass-1@db/portal",
             "session_secret": "session-secret-2", "pkcs11_pin": "pin-3",
             "smtp_password": "smtp-pass-4", "audit_signing_key": "signing-key-5",
             "audit_checkpoint_token": "token-6", "s3_secret_access_key": "s3-secret-7"}
    text = repr(Settings(**shown))  # type: ignore[arg-type]
    assert "Settings(" in text
    assert not [value for value in shown.values() if value in text]
