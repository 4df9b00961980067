"""Configuration that ``auth`` needs, handed in by the application.

``auth`` never reads the portal's settings or database itself: the portal
builds these objects and passes them down, so this package can be tested (and
reused) on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

# Assurance levels in increasing strength. eIDAS levels are what Dutch brokers
# (DigiD, eHerkenning) deliver; "urn:mdo:acr:dev" is the development IdP's.
ACR_ORDER: tuple[str, ...] = (
    "urn:mdo:acr:dev",
    # The development IdP's "confirmed with a second factor" step: above a plain
    # dev login so step-up can be exercised, below every real level.
    "urn:mdo:acr:dev:second-factor",
    "http://eidas.europa.eu/LoA/low",
    "http://eidas.europa.eu/LoA/substantial",
    "http://eidas.europa.eu/LoA/high",
)


def acr_at_least(actual: str | None, required: str | None) -> bool:
    """True when ``actual`` meets ``required``; unknown values never meet a requirement."""
    if not required:
        return True
    if actual not in ACR_ORDER or required not in ACR_ORDER:
        return actual == required
    return ACR_ORDER.index(actual) >= ACR_ORDER.index(required)


@dataclass(frozen=True)
class SessionPolicy:
    """Server-side session lifetimes, enforced on every request."""

    idle_timeout: timedelta = timedelta(minutes=15)
    absolute_timeout: timedelta = timedelta(hours=8)


@dataclass(frozen=True)
class IdentityProviderConfig:
    """One OpenID Provider the portal trusts.

    ``organisations`` lists the organisation slugs this provider may vouch for;
    a login that claims any other organisation is refused. ``role_map`` maps
    values of ``role_claim`` to portal roles; unmapped values grant nothing.
    ``kind`` says whom it authenticates: professionals or citizens (parents,
    pupils); "mixed" (the development IdP) treats a login with an organisation
    claim as a professional and one without as a citizen.
    """

    id: str
    issuer: str
    client_id: str
    client_secret: str
    label: str
    kind: str = "professional"
    organisations: tuple[str, ...] = ()
    org_claim: str = "org"
    role_claim: str = "roles"
    role_map: Mapping[str, str] = field(default_factory=dict)
    min_acr: str | None = None
    scopes: tuple[str, ...] = ("openid", "profile", "email")

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object]) -> IdentityProviderConfig:
        """Build from JSON configuration; unknown keys are an error, not ignored."""
        allowed = set(cls.__dataclass_fields__) | {"client_secret_file"}
        unknown = set(raw) - allowed
        if unknown:
            raise ValueError(f"unknown identity provider keys: {', '.join(sorted(unknown))}")
        secret = raw.get("client_secret")
        secret_file = raw.get("client_secret_file")
        if secret_file:
            with open(str(secret_file), encoding="utf-8") as handle:
                secret = handle.read().strip()
        kind = str(raw.get("kind", "professional"))
        if kind not in ("professional", "citizen", "mixed"):
            raise ValueError(f"identity provider kind must be professional, citizen or mixed, "
                             f"not {kind}")
        role_map = raw.get("role_map", {})
        if not isinstance(role_map, Mapping):
            raise ValueError("role_map must be an object")
        return cls(
            id=str(raw["id"]),
            issuer=str(raw["issuer"]),  # compared exactly, never normalised
            client_id=str(raw["client_id"]),
            client_secret=str(secret or ""),
            label=str(raw.get("label", raw["id"])),
            kind=kind,
            organisations=tuple(str(o) for o in _as_list(raw.get("organisations", []))),
            org_claim=str(raw.get("org_claim", "org")),
            role_claim=str(raw.get("role_claim", "roles")),
            role_map={str(k): str(v) for k, v in role_map.items()},
            min_acr=str(raw["min_acr"]) if raw.get("min_acr") else None,
            scopes=tuple(str(s) for s in _as_list(raw.get("scopes", ["openid", "profile"]))),
        )


def _as_list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return value
