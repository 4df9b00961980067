"""The Ed25519 key that signs access-log checkpoints, and the keys that verify them.

Production reads the signing key from a secret file (``PORTAL_AUDIT_SIGNING_KEY_FILE``,
a PKCS#8 PEM as ``openssl genpkey -algorithm ed25519`` writes it) and refuses to
start without one; dev mode generates one into the data directory (mode 0600).
Verifiers are told the public half as a signed-note verifier key
(``portal audit vkey``), so they need nothing from the portal's database.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from portal import devkeys
from portal.audit.checkpoint import parse_verifier_key, verifier_key
from portal.audit.cosignature import parse_cosigner_vkey
from portal.audit.ledger import AuditConfig
from portal.settings import Settings, SettingsError

DEV_KEY_FILE = "audit-signing-key.pem"


def dev_signing_key_pem(data_dir: Path) -> str:
    """The dev signing key (PEM), generated into ``data_dir`` on first use."""
    def generate() -> str:
        key = Ed25519PrivateKey.generate()
        return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()

    return devkeys.ensure_secret_file(data_dir / DEV_KEY_FILE, generate)


def load_signing_key(pem: str) -> Ed25519PrivateKey:
    """Parse the configured signing key; raises ValueError if it is not an Ed25519 key."""
    try:
        key = load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise ValueError("the audit signing key is not a PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the audit signing key must be an Ed25519 key")
    return key


def trusted_keys(key_name: str, signing_key: Ed25519PrivateKey | None,
                 verifier_keys: tuple[str, ...]) -> list[tuple[str, Ed25519PublicKey]]:
    """The (name, public key) pairs checkpoints may be signed with (old keys after a rotation)."""
    keys = [parse_verifier_key(vkey) for vkey in verifier_keys]
    if signing_key is not None:
        keys.append((key_name, signing_key.public_key()))
    return keys


def vkey_of(key_name: str, signing_key: Ed25519PrivateKey) -> str:
    return verifier_key(key_name, signing_key.public_key())


def with_dev_signing_key(settings: Settings) -> Settings:
    """Dev mode without a configured key: generate one into the data directory."""
    if settings.mode != "dev" or settings.audit_signing_key:
        return settings
    return replace(settings, audit_signing_key=dev_signing_key_pem(settings.data_dir),
                   audit_signing_key_generated=True)


def prepare_signing_key(settings: Settings) -> Settings:
    """The dev key where none is configured; a configured key must be an Ed25519 key."""
    settings = with_dev_signing_key(settings)
    if settings.audit_signing_key:
        try:
            load_signing_key(settings.audit_signing_key)
        except ValueError as exc:
            raise SettingsError(f"PORTAL_AUDIT_SIGNING_KEY(_FILE): {exc}") from None
    if settings.audit_witness_vkey:
        try:
            parse_cosigner_vkey(settings.audit_witness_vkey)
        except ValueError as exc:
            raise SettingsError(f"PORTAL_AUDIT_WITNESS_VKEY: {exc}") from None
    return settings


def audit_config(settings: Settings) -> AuditConfig:
    """What sealing checkpoints needs, from the settings (the key must be configured)."""
    origin = settings.effective_audit_origin
    return AuditConfig(
        origin=origin,
        key_name=origin,
        signing_key=load_signing_key(settings.audit_signing_key),
        every=settings.audit_checkpoint_every,
        interval=timedelta(seconds=settings.audit_checkpoint_seconds),
        export_dir=settings.audit_checkpoint_dir,
        verifier_keys=tuple(parse_verifier_key(vkey) for vkey in settings.audit_verifier_keys),
        witness=(parse_cosigner_vkey(settings.audit_witness_vkey)
                 if settings.audit_witness_vkey else None),
    )
