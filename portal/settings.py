"""One typed settings object, read once from ``PORTAL_*`` environment variables
(``load_settings`` in portal/settings_env.py).

Secrets have no defaults outside dev mode; every secret can also come from a
file (``PORTAL_X_FILE``), which is how container platforms and systemd hand
them over. Production refuses to start with anything that only makes sense on
a developer's laptop.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from auth.config import IdentityProviderConfig, SessionPolicy
from auth.devidp import DEV_ACR, DEV_SECOND_FACTOR_ACR
from portal.setting_checks import identity_provider_problems, session_secret_problems

Mode = Literal["dev", "production"]

DEFAULT_DATA_DIR = Path("var")


class SettingsError(ValueError):
    """A setting is missing, malformed or unsafe for the chosen mode."""


@dataclass(frozen=True)
class ScimOrganisation:
    """An organisation whose directory provisions its staff over SCIM (portal/scim).

    Only the SHA-256 of its bearer token is kept; ``group_roles`` maps the
    directory's group names to portal roles (a group named like a role maps to it).
    """

    slug: str
    token_hash: str
    group_roles: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    # Secrets (and the database URL, which may hold a password) are left out of the
    # repr, so a logged or printed Settings never shows them.
    mode: Mode = "dev"
    public_url: str = "http://127.0.0.1:8000"
    database_url: str = field(default="", repr=False)
    data_dir: Path = DEFAULT_DATA_DIR
    session_secret: str = field(default="", repr=False)
    session_secret_generated: bool = False
    sessions: SessionPolicy = field(default_factory=SessionPolicy)
    dev_idp: bool = True
    identity_providers: tuple[IdentityProviderConfig, ...] = ()
    key_provider: Literal["local", "secret-file", "pkcs11"] = "local"
    keyring_file: Path | None = None
    pkcs11_library: str = ""
    pkcs11_token: str = ""
    pkcs11_pin: str = field(default="", repr=False)
    # After an erasure the key epoch must run within this many days; until then a
    # backup taken before the erasure can still unwrap the erased data keys.
    erasure_epoch_days: int = 30
    # Where dev mode keeps its keyring: never beside the database (default <data_dir>-keys).
    keys_dir: Path | None = None
    default_language: Literal["nl", "en"] = "nl"
    # Re-read a template whose file changed (a stat of every template a page
    # uses, on every request): for editing templates; PORTAL_TEMPLATE_RELOAD,
    # on by default in dev mode only.
    template_reload: bool = False
    log_level: str = "INFO"
    # The largest attachment accepted, in MiB (enforced while the upload streams).
    max_upload_mb: int = 25
    # An uploading client silent this long is cut off: its transaction (and on
    # SQLite the write lock) must not stay open for a slow or stalled sender.
    upload_stall_seconds: float = 20.0
    # Page handlers running at once (more wait their turn): a few more than the cores.
    # Beyond that, threads only queue for Python's interpreter lock, and a request
    # holding the audit chain head waits behind them (bench/bench_audit_logging.py).
    page_threads: int = field(default_factory=lambda: default_page_threads())
    # Outgoing mail. In dev mode an in-process catcher receives it (/dev/mail).
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "MDO-portaal <no-reply@mdo-portaal.invalid>"
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    # The access log (portal/audit): signed checkpoints and who may read it.
    audit_signing_key: str = field(default="", repr=False)  # PEM (PKCS#8) Ed25519 private key
    audit_signing_key_generated: bool = False
    audit_origin: str = ""  # the log's name in its checkpoints (stable, unique per portal)
    audit_verifier_keys: tuple[str, ...] = ()  # earlier keys' vkeys, after a rotation
    audit_checkpoint_every: int = 1000  # records
    audit_checkpoint_seconds: int = 300
    audit_checkpoint_dir: Path | None = None  # every sealed checkpoint is also written here
    # Every sealed checkpoint is also POSTed here (a witness outside the database).
    audit_checkpoint_url: str = ""
    # The bearer token for that URL (from a *_FILE secret).
    audit_checkpoint_token: str = field(default="", repr=False)
    audit_witness_vkey: str = ""  # the witness's cosigner vkey (`portal witness vkey`)
    audit_retention_years: int = 5  # access records are kept at least this long
    audit_dpo_acr: str = ""  # the assurance level the DPO needs to read the log
    # The assurance level a parent or pupil needs to give consent in the portal.
    consent_acr: str = ""
    audit_names_for_family: tuple[str, ...] = ()  # organisations whose names parents see
    # How long a family invitation's link stays valid (portal/invitations).
    invitation_days: int = 14
    # SCIM provisioning: one bearer token (as its hash) per organisation.
    scim_organisations: tuple[ScimOrganisation, ...] = ()
    # Operations (portal/jobs, portal/metrics): how often each process looks
    # for background work, and where Prometheus scrapes (off unless set).
    jobs_interval_seconds: float = 30.0
    metrics_port: int = 0
    metrics_address: str = "127.0.0.1"
    metrics_token: str = ""
    # Where file contents go (portal/documents/blobs.py): "dir" (a directory,
    # <data_dir>/blobs unless PORTAL_BLOB_DIR), "s3" (an S3-compatible object
    # store) or "database" (segment rows, as before migration 0036).
    blob_store: Literal["dir", "s3", "database"] = "dir"
    blob_dir: Path | None = None
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_region: str = ""
    s3_prefix: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = field(default="", repr=False)
    # The deployment's look (portal/theme): a CSS file of NL Design System token
    # values (``.utrecht-theme { --utrecht-…: … }``) and a logo image.
    theme_css: Path | None = None
    logo: Path | None = None

    @property
    def effective_blob_dir(self) -> Path:
        return self.blob_dir or self.data_dir / "blobs"

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def cookie_name(self) -> str:
        # The __Host- prefix is only accepted by browsers on Secure cookies.
        return "__Host-mdo_session" if self.secure_cookies else "mdo_session"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'portal.db'}"

    @property
    def effective_audit_origin(self) -> str:
        # Not derived from the public URL: the name is signed into every
        # checkpoint and must outlive a move to another address.
        return self.audit_origin or "mdo-portal.invalid/access-log"

    @property
    def effective_consent_acr(self) -> str:
        # Giving consent must be demonstrable: eIDAS substantial (DigiD Midden)
        # unless configured; the dev IdP's level only in dev mode.
        if self.consent_acr:
            return self.consent_acr
        return DEV_ACR if self.mode == "dev" else "http://eidas.europa.eu/LoA/substantial"

    @property
    def effective_audit_dpo_acr(self) -> str:
        # The dev IdP's level is the lowest there is: it only satisfies dev mode.
        if self.audit_dpo_acr:
            return self.audit_dpo_acr
        return DEV_ACR if self.mode == "dev" else "http://eidas.europa.eu/LoA/high"

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
        else:
            problems.extend(session_secret_problems(self.session_secret))
        problems.extend(identity_provider_problems(self.identity_providers))
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
        if not self.audit_signing_key:
            problems.append("PORTAL_AUDIT_SIGNING_KEY_FILE (the access log's checkpoint "
                            "signing key) is missing")
        elif self.audit_signing_key_generated:
            problems.append("the access log's signing key was generated for development")
        if not self.audit_origin:
            problems.append("PORTAL_AUDIT_ORIGIN (the access log's name in its signed "
                            "checkpoints, e.g. mdo.example.nl/access-log) is missing")
        if self.audit_checkpoint_url.startswith("http://"):
            problems.append("PORTAL_AUDIT_CHECKPOINT_URL is not https://")
        if self.effective_audit_dpo_acr in (DEV_ACR, DEV_SECOND_FACTOR_ACR):
            problems.append("PORTAL_AUDIT_DPO_ACR is the development IdP's level")
        if self.blob_store == "s3" and self.s3_endpoint.startswith("http://") \
                and not self.s3_endpoint.startswith(("http://127.0.0.1", "http://localhost",
                                                     "http://[::1]")):
            problems.append("PORTAL_S3_ENDPOINT is not https:// (the object store's "
                            "credentials and ciphertext would cross the network in the clear)")
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



def default_page_threads() -> int:
    """2 × the CPUs this process may run on (its affinity, not the host's count) + 1."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        os.cpu_count() or 1
    return 2 * cpus + 1
