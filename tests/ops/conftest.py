"""Empty databases (nothing migrated), production settings, and a SoftHSM2 token."""

from __future__ import annotations

import gc
import json
import os
import secrets
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from auth.config import IdentityProviderConfig
from portal.settings import Settings
from tests.harness import PostgresServer

ROOT = Path(__file__).resolve().parents[2]
SOFTHSM_LIB = os.environ.get("SOFTHSM2_LIB", "/usr/lib/softhsm/libsofthsm2.so")
TOKEN, UNUSED_TOKEN, PIN = "mdo-init", "mdo-init-pin", "1234"
CLI_TOKEN = "mdo-init-cli"  # only child processes (the portal command) log in to it
SCHOOL_IDP = IdentityProviderConfig(
    id="school-idp", issuer="https://login.school.example", client_id="portal",
    client_secret="from-a-vault", label="School", organisations=("het-baken",),
    role_map={"ib": "care_coordinator"}, min_acr="http://eidas.europa.eu/LoA/substantial")


def audit_key_pem() -> str:
    return Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()



@pytest.fixture
def empty_postgres_url(postgres: PostgresServer) -> Iterator[str]:
    name = f"e_{uuid.uuid4().hex[:16]}"
    postgres.execute(f"CREATE DATABASE {name}")
    yield postgres.url(name)
    postgres.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def production_settings(tmp_path: Path) -> Settings:
    """Production settings with a secret-file keyring that does not exist yet."""
    return Settings(
        mode="production", public_url="https://mdo.example", data_dir=tmp_path,
        session_secret=secrets.token_urlsafe(32), dev_idp=False,
        identity_providers=(SCHOOL_IDP,), key_provider="secret-file",
        keyring_file=tmp_path / "kek", smtp_host="127.0.0.1",
        audit_signing_key=audit_key_pem(), audit_origin="mdo.example/access-log")


def with_database(settings: Settings, url: str) -> Settings:
    return replace(settings, database_url=url)


@pytest.fixture(scope="module")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh SoftHSM2 token without keys (and one nobody logs in to); yields the library."""
    if shutil.which("softhsm2-util") is None:
        pytest.skip("softhsm2-util not on PATH (install the Debian package softhsm2)")
    import pkcs11

    base = tmp_path_factory.mktemp("softhsm")
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOFTHSM2_CONF", str(conf))
        for label in (TOKEN, UNUSED_TOKEN, CLI_TOKEN):
            subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label,
                            "--pin", PIN, "--so-pin", "5678"], check=True, capture_output=True)
        _forget_sessions()
        pkcs11.lib(SOFTHSM_LIB).reinitialize()
        yield SOFTHSM_LIB
        _forget_sessions()
    pkcs11.lib(SOFTHSM_LIB).reinitialize()


def _forget_sessions() -> None:
    # Providers share one session per (library, token label) in the process;
    # close it, and let pending search handles finish, before the library is
    # re-initialised for another module's tokens under the same labels.
    from crypto import Pkcs11Provider

    for label in (TOKEN, UNUSED_TOKEN):
        Pkcs11Provider(SOFTHSM_LIB, label, PIN).close()
    gc.collect()


def production_env(tmp_path: Path, database_url: str, smtp_port: int,
                   **overrides: str) -> dict[str, str]:
    """``PORTAL_*`` variables of a complete production configuration, secrets as 0600 files."""
    def secret(name: str, value: str) -> str:
        path = tmp_path / name
        path.write_text(value)
        path.chmod(0o600)
        return str(path)

    idps = tmp_path / "idps.json"
    idps.write_text(json.dumps([{
        "id": SCHOOL_IDP.id, "issuer": SCHOOL_IDP.issuer, "client_id": "portal",
        "client_secret_file": secret("idp-secret", "from-a-vault"),
        "organisations": ["het-baken"], "role_map": {"ib": "care_coordinator"},
        "min_acr": SCHOOL_IDP.min_acr}]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({
        "PORTAL_MODE": "production", "PORTAL_PUBLIC_URL": "https://mdo.example",
        "PORTAL_DATA_DIR": str(tmp_path),
        "PORTAL_DATABASE_URL_FILE": secret("database-url", database_url),
        "PORTAL_SESSION_SECRET_FILE": secret("session-secret", secrets.token_urlsafe(32)),
        "PORTAL_AUDIT_SIGNING_KEY_FILE": secret("audit-key.pem", audit_key_pem()),
        "PORTAL_AUDIT_ORIGIN": "mdo.example/access-log", "PORTAL_IDPS_FILE": str(idps),
        "PORTAL_KEY_PROVIDER": "secret-file", "PORTAL_KEYRING_FILE": str(tmp_path / "kek"),
        "PORTAL_DEV_IDP": "0", "PORTAL_SMTP_HOST": "127.0.0.1",
        "PORTAL_SMTP_PORT": str(smtp_port), **overrides})
    return env


def portal_command(*args: str, env: dict[str, str], **kwargs: Any
                   ) -> subprocess.CompletedProcess[str]:
    """The real ``portal`` console entry point in a child process."""
    return subprocess.run([sys.executable, "-m", "portal.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False, **kwargs)
