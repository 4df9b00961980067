"""Configuration that ``auth`` needs, handed in by the application.

``auth`` never reads the portal's settings or database itself: the portal
builds these objects and passes them down, so this package can be tested (and
reused) on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey

# Assurance levels in increasing strength, one ordering per scheme. Values of
# different schemes are never compared: a requirement in one scheme is met only
# by a value of the same scheme (or by exactly that value).
# eIDAS (what eIDAS-notified brokers deliver); "urn:mdo:acr:dev" is the
# development IdP's, below every real level.
ACR_ORDER: tuple[str, ...] = (
    "urn:mdo:acr:dev",
    # The development IdP's "confirmed with a second factor" step: above a plain
    # dev login so step-up can be exercised, below every real level.
    "urn:mdo:acr:dev:second-factor",
    "http://eidas.europa.eu/LoA/low",
    "http://eidas.europa.eu/LoA/substantial",
    "http://eidas.europa.eu/LoA/high",
)


# eHerkenning's assurance classes (Afsprakenstelsel Elektronische Toegangsdiensten).
EHERKENNING_ORDER: tuple[str, ...] = (
    "urn:etoegang:core:assurance-class:loa2",
    "urn:etoegang:core:assurance-class:loa2plus",
    "urn:etoegang:core:assurance-class:loa3",
    "urn:etoegang:core:assurance-class:loa4",
)
# DigiD's levels basis, midden, substantieel, hoog, as brokers pass DigiD's
# SAML authentication context classes on as ``acr``.
DIGID_ORDER: tuple[str, ...] = (
    "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
)
ACR_PRESETS: Mapping[str, tuple[str, ...]] = {
    "eidas": ACR_ORDER,
    "eherkenning": EHERKENNING_ORDER,
    "digid": DIGID_ORDER,
}
TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")


def acr_at_least(actual: str | None, required: str | None,
                 order: tuple[str, ...] | None = None) -> bool:
    """True when ``actual`` meets ``required`` in ``order`` (by default: in the
    one preset scheme that holds both). Unknown values, and values of two
    different schemes, meet a requirement only by being exactly it."""
    if not required:
        return True
    orders = (order,) if order is not None else tuple(ACR_PRESETS.values())
    for scale in orders:
        if actual in scale and required in scale:
            return scale.index(actual) >= scale.index(required)
    return actual == required


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

    ``org_claim`` and ``role_claim`` name a claim, or a dotted path into nested
    claims (``realm_access.roles``). ``acr_values`` orders the levels this
    provider may send, weakest first; ``min_acr`` must be one of them.
    ``token_endpoint_auth_method`` is how the portal authenticates at the token
    endpoint; ``private_key_jwt`` signs with ``client_private_key`` (a PEM).
    ``previous_subject_claim`` names a claim that carries the subject the
    provider used before it changed its subject type: a login whose new
    subject is unknown but whose previous one is bound is moved to the new
    subject (and logged), instead of becoming a second account.
    """

    id: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    label: str
    kind: str = "professional"
    organisations: tuple[str, ...] = ()
    org_claim: str = "org"
    role_claim: str = "roles"
    role_map: Mapping[str, str] = field(default_factory=dict)
    min_acr: str | None = None
    scopes: tuple[str, ...] = ("openid", "profile", "email")
    acr_values: tuple[str, ...] = ACR_ORDER
    token_endpoint_auth_method: str = "client_secret_basic"  # noqa: S105 (a method name)
    client_private_key: str = field(default="", repr=False)
    previous_subject_claim: str | None = None

    def acr_at_least(self, actual: str | None, required: str | None) -> bool:
        """``acr_at_least`` in this provider's ordering."""
        return acr_at_least(actual, required, self.acr_values)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object]) -> IdentityProviderConfig:
        """Build from JSON configuration; unknown keys are an error, not ignored."""
        allowed = (set(cls.__dataclass_fields__) - {"client_private_key"}) | {
            "client_secret_file", "client_private_key_file", "acr_preset"}
        unknown = set(raw) - allowed
        if unknown:
            raise ValueError(f"unknown identity provider keys: {', '.join(sorted(unknown))}")
        secret = raw.get("client_secret")
        secret_file = raw.get("client_secret_file")
        if secret_file:
            secret = _read_secret(secret_file)
        method = str(raw.get("token_endpoint_auth_method", "client_secret_basic"))
        if method not in TOKEN_ENDPOINT_AUTH_METHODS:
            raise ValueError(f"token_endpoint_auth_method must be one of "
                             f"{', '.join(TOKEN_ENDPOINT_AUTH_METHODS)}, not {method}")
        private_key = ""
        if method == "private_key_jwt":
            if not raw.get("client_private_key_file"):
                raise ValueError(f"provider {raw.get('id')}: private_key_jwt needs "
                                 f"client_private_key_file (a PEM private key)")
            private_key = _read_secret(raw["client_private_key_file"])
            if private_signing_key(private_key) is None:
                raise ValueError(f"provider {raw.get('id')}: client_private_key_file holds no "
                                 f"PEM RSA, EC or Ed25519 private key")
        elif not secret:
            raise ValueError(f"provider {raw.get('id')}: {method} needs client_secret "
                             f"or client_secret_file")
        acr_values = _acr_order(raw)
        min_acr = str(raw["min_acr"]) if raw.get("min_acr") else None
        if min_acr is not None and min_acr not in acr_values:
            raise ValueError(f"provider {raw.get('id')}: min_acr {min_acr} is not one of its "
                             f"acr_values (or acr_preset)")
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
            min_acr=min_acr,
            scopes=tuple(str(s) for s in _as_list(raw.get("scopes", ["openid", "profile"]))),
            acr_values=acr_values,
            token_endpoint_auth_method=method,
            client_private_key=private_key,
            previous_subject_claim=(str(raw["previous_subject_claim"])
                                    if raw.get("previous_subject_claim") else None),
        )


def private_signing_key(pem: str) -> RSAKey | ECKey | OKPKey | None:
    """The private key in ``pem`` for ``private_key_jwt``, or None when there is none."""
    for kind in (RSAKey, ECKey, OKPKey):
        try:
            key = kind.import_key(pem)
        except (JoseError, ValueError, TypeError):
            continue
        if key.is_private:
            return key
    return None


def _read_secret(path: object) -> str:
    try:
        with open(str(path), encoding="utf-8") as handle:
            return handle.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror if isinstance(exc, OSError) else exc}"
                         ) from exc


def _acr_order(raw: Mapping[str, object]) -> tuple[str, ...]:
    """The provider's ``acr_values`` list, or a named preset; eIDAS by default."""
    if "acr_values" in raw and "acr_preset" in raw:
        raise ValueError("give acr_values or acr_preset, not both")
    if "acr_values" in raw:
        values = tuple(str(v) for v in _as_list(raw["acr_values"]))
        if not values or len(set(values)) != len(values):
            raise ValueError("acr_values must list distinct levels, weakest first")
        return values
    preset = str(raw.get("acr_preset", "eidas"))
    if preset not in ACR_PRESETS:
        raise ValueError(f"acr_preset must be one of {', '.join(ACR_PRESETS)}, not {preset}")
    return ACR_PRESETS[preset]


def _as_list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return value
