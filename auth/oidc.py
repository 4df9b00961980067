"""OpenID Connect relying party: authorization code flow with PKCE.

Security contract
-----------------
``begin`` returns the authorization URL and a ``PendingLogin`` that the caller
MUST store server-side, bound to the browser's pre-login session, and hand
back unchanged to ``complete`` for the callback whose ``state`` matches it.
``complete`` returns a ``VerifiedLogin`` only when every check below passed;
otherwise it raises ``LoginRejected`` whose ``code`` is safe to log and whose
message is safe to show (neither contains tokens):

- discovery metadata's ``issuer`` equals the configured issuer exactly;
- the RFC 9207 ``iss`` callback parameter, when present, equals the issuer,
  and is present when the provider advertises ``authorization_response_iss_parameter_supported``;
- the ID token is signed with an asymmetric algorithm the provider advertises,
  by a key from its JWKS (unknown ``kid`` → one JWKS refresh, then refusal);
  ``alg=none`` and HMAC algorithms are refused;
- ``iss``, ``aud`` (contains our client id), ``azp`` (required and equal to our
  client id when there are several audiences), ``exp``, ``iat`` and ``nonce``;
- the ``acr`` meets the provider's configured minimum and, for a step-up
  login, the level ``begin`` was asked for (kept in the ``PendingLogin``, so a
  level the browser sends back is never trusted), both in the provider's own
  ordering of levels;
- for a login started with ``reauthenticate=True`` (step-up), ``auth_time`` is
  present and not older than the request: an answer from the provider's
  still-open session is refused, whatever its ``acr``.

``LoginRejected.advice`` tells the user what to do: ``retry`` (log in again),
``later`` (the provider is unreachable or failing) or ``administrator`` (the
portal's registration at the provider is wrong: secret, key or method). The
provider's ``error``/``error_description`` from the token endpoint is logged;
the client secret, codes and tokens never are.

HTTP to the provider goes through Authlib's requests client.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

from auth.config import IdentityProviderConfig, private_signing_key
from auth.login_values import LoginRejected, PendingLogin, VerifiedLogin

log = logging.getLogger("auth.oidc")

# Asymmetric algorithms only: a shared-secret HMAC ID token would let anyone
# holding the client secret mint logins, and "none" is no signature at all.
SAFE_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
                             "ES384", "ES512", "EdDSA"})
CLOCK_SKEW = 60
HTTP_TIMEOUT = 10
# Token endpoint errors that mean the portal's own registration is wrong (RFC
# 6749 5.2): logging in again cannot help, an administrator must fix it.
CLIENT_ERRORS = frozenset({"invalid_client", "unauthorized_client", "unsupported_grant_type",
                           "invalid_scope"})


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None
    iss_parameter_supported: bool
    signing_algorithms: frozenset[str]
    claims_parameter_supported: bool = False


class OidcClient:
    """A relying party for one configured provider. Thread-safe."""

    def __init__(
        self,
        config: IdentityProviderConfig,
        *,
        clock: Callable[[], float] = time.time,
        metadata_ttl: int = 3600,
        http: requests.Session | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self._metadata_ttl = metadata_ttl
        self._http = http or requests.Session()
        self._lock = threading.Lock()
        self._metadata: ProviderMetadata | None = None
        self._metadata_at = 0.0
        self._jwks: KeySet | None = None

    def close(self) -> None:
        """Release pooled connections to the provider."""
        self._http.close()

    # -- discovery -----------------------------------------------------
    def metadata(self) -> ProviderMetadata:
        """The provider's discovery document, cached; its issuer is checked exactly."""
        with self._lock:
            fresh = self._clock() - self._metadata_at < self._metadata_ttl
            if self._metadata is not None and fresh:
                return self._metadata
        raw = self._get_json(f"{self.config.issuer}/.well-known/openid-configuration")
        if raw.get("issuer") != self.config.issuer:
            log.warning("oidc discovery issuer mismatch for provider %s", self.config.id)
            raise LoginRejected(
                "issuer_mismatch",
                "The identity provider's discovery document names another issuer.",
            )
        try:
            metadata = ProviderMetadata(
                issuer=raw["issuer"],
                authorization_endpoint=raw["authorization_endpoint"],
                token_endpoint=raw["token_endpoint"],
                jwks_uri=raw["jwks_uri"],
                userinfo_endpoint=raw.get("userinfo_endpoint"),
                end_session_endpoint=raw.get("end_session_endpoint"),
                iss_parameter_supported=bool(
                    raw.get("authorization_response_iss_parameter_supported", False)
                ),
                signing_algorithms=frozenset(
                    raw.get("id_token_signing_alg_values_supported", ["RS256"])
                )
                & SAFE_ALGORITHMS,
                claims_parameter_supported=bool(raw.get("claims_parameter_supported", False)),
            )
        except KeyError as exc:
            log.warning("oidc discovery for %s lacks %s", self.config.id, exc.args[0])
            raise LoginRejected(
                "bad_discovery", "The identity provider's discovery document is incomplete."
            ) from exc
        with self._lock:
            self._metadata = metadata
            self._metadata_at = self._clock()
        return metadata

    def _keys(self, *, refresh: bool = False) -> KeySet:
        with self._lock:
            if self._jwks is not None and not refresh:
                return self._jwks
        keys = KeySet.import_key_set(self._get_json(self.metadata().jwks_uri))  # type: ignore[arg-type]
        with self._lock:
            self._jwks = keys
        return keys

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, timeout=HTTP_TIMEOUT)
            response.raise_for_status()
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            log.warning("oidc provider %s unreachable: %s", self.config.id, type(exc).__name__)
            raise LoginRejected(
                "provider_unreachable", "The identity provider could not be reached.", "later"
            ) from exc
        if not isinstance(body, dict):
            raise LoginRejected("bad_discovery", "The identity provider answered nonsense.")
        return body

    def _stronger(self, first: str | None, second: str | None) -> str | None:
        """The higher of two required levels (the later one when they cannot be ordered)."""
        if not first or not second:
            return first or second
        return first if self.config.acr_at_least(first, second) else second

    # -- the flow --------------------------------------------------------
    def begin(self, redirect_uri: str, *, acr: str | None = None,
              reauthenticate: bool = False) -> tuple[str, PendingLogin]:
        """Start a login: the URL to send the browser to, and what to remember.

        ``acr`` asks for at least that assurance level (step-up): it is sent as
        ``acr_values`` and, where the provider supports the ``claims``
        parameter, as an essential ``acr`` claim (OIDC Core 3.1.2.1, 5.5.1.1);
        ``complete`` refuses an ID token below it. The caller
        decides the level; it must not come from the browser.
        ``reauthenticate`` sends ``prompt=login`` and ``max_age=0`` so the
        provider cannot answer from its open session; ``complete`` then
        demands an ``auth_time`` at or after this call.
        """
        metadata = self.metadata()
        required = self._stronger(self.config.min_acr, acr)
        pending = PendingLogin(
            provider_id=self.config.id,
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),
            redirect_uri=redirect_uri,
            started_at=int(self._clock()),
            required_acr=required,
            reauthenticate=reauthenticate,
        )
        query = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(self.config.scopes),
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": create_s256_code_challenge(pending.code_verifier),
            "code_challenge_method": "S256",
        }
        if required:
            query["acr_values"] = required
        if reauthenticate:
            query["prompt"] = "login"
            query["max_age"] = "0"
        if acr and metadata.claims_parameter_supported:
            # acr_values is only a wish; an essential claim asks the provider to
            # fail rather than silently deliver less (we check either way). Sent
            # only where advertised: some providers refuse unknown parameters.
            query["claims"] = json.dumps(
                {"id_token": {"acr": {"essential": True, "values": [required]}}},
                separators=(",", ":"))
        separator = "&" if "?" in metadata.authorization_endpoint else "?"
        return f"{metadata.authorization_endpoint}{separator}{urlencode(query)}", pending

    def complete(self, pending: PendingLogin, params: Mapping[str, str]) -> VerifiedLogin:
        """Finish a login from the callback's query parameters."""
        if params.get("error"):
            # Only the standard error code: the description is the provider's prose.
            error = str(params.get("error"))[:64]
            log.warning("oidc authorization error from %s: %s", self.config.id, error)
            if error in ("temporarily_unavailable", "server_error"):  # OIDC Core 3.1.2.6
                raise LoginRejected("provider_failing",
                                    "The identity provider is not working properly.", "later")
            raise LoginRejected("provider_error", "The identity provider did not log you in.")
        if not hmac.compare_digest(params.get("state", ""), pending.state):
            raise LoginRejected("state_mismatch", "This login link does not belong to you.")
        metadata = self.metadata()
        iss = params.get("iss")
        if iss is not None and iss != metadata.issuer:
            raise LoginRejected("iss_mismatch", "The answer came from another identity provider.")
        if iss is None and metadata.iss_parameter_supported:
            raise LoginRejected("iss_missing", "The identity provider's answer was incomplete.")
        code = params.get("code")
        if not code:
            raise LoginRejected("code_missing", "The identity provider's answer was incomplete.")
        token = self._exchange(metadata, pending, code)
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise LoginRejected("id_token_missing", "The identity provider sent no ID token.")
        claims = self._verify_id_token(metadata, id_token, pending.nonce)
        acr = claims.get("acr")
        if not self.config.acr_at_least(acr, self.config.min_acr):
            raise LoginRejected(
                "insufficient_assurance",
                "This login method is not strong enough for the portal.",
            )
        if not self.config.acr_at_least(acr, pending.required_acr):
            raise LoginRejected(
                "step_up_failed",
                "The identity provider did not confirm the stronger login that was asked for.",
            )
        raw_auth_time = claims.get("auth_time")
        # A JSON number; bool is an int subclass in Python and is no time at all.
        auth_time = (int(raw_auth_time) if isinstance(raw_auth_time, int | float)
                     and not isinstance(raw_auth_time, bool) else None)
        if pending.reauthenticate and (auth_time is None or auth_time < pending.started_at):
            # The provider answered from a session older than this request: the
            # person at the keyboard was not asked for anything just now.
            raise LoginRejected(
                "step_up_not_fresh",
                "The identity provider did not ask you to log in again.",
            )
        merged = dict(claims)
        access_token = token.get("access_token")
        if metadata.userinfo_endpoint and isinstance(access_token, str):
            merged = self._with_userinfo(metadata.userinfo_endpoint, access_token, claims)
        return VerifiedLogin(
            provider_id=self.config.id,
            issuer=metadata.issuer,
            subject=str(claims["sub"]),
            claims=merged,
            acr=acr if isinstance(acr, str) else None,
            auth_time=auth_time,
            id_token=id_token,
        )

    def logout_url(self, post_logout_redirect_uri: str, id_token_hint: str | None) -> str | None:
        """RP-initiated logout URL (OIDC RP-Initiated Logout 1.0), or None when
        the provider offers none or cannot be reached."""
        try:
            endpoint = self.metadata().end_session_endpoint
        except LoginRejected:
            return None
        if not endpoint:
            return None
        query = {"client_id": self.config.client_id,
                 "post_logout_redirect_uri": post_logout_redirect_uri}
        if id_token_hint:
            query["id_token_hint"] = id_token_hint
        return f"{endpoint}?{urlencode(query)}"

    def _exchange(self, metadata: ProviderMetadata, pending: PendingLogin,
                  code: str) -> Mapping[str, Any]:
        client = self._token_client(metadata, pending.redirect_uri)
        try:
            token = client.fetch_token(
                metadata.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=pending.code_verifier,
            )
        except OAuthError as exc:
            raise self._token_error(str(exc.error), exc.description) from exc
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            log.warning("oidc token endpoint of %s answered HTTP %s", self.config.id, status)
            raise LoginRejected("provider_failing", "The identity provider is not working "
                                "properly.", "later") from exc
        except (requests.RequestException, ValueError) as exc:
            log.warning("oidc token endpoint of %s unreachable: %s", self.config.id,
                        type(exc).__name__)
            raise LoginRejected("provider_unreachable",
                                "The identity provider could not be reached.", "later") from exc
        finally:
            client.close()
        return dict(token)

    def _token_client(self, metadata: ProviderMetadata, redirect_uri: str) -> OAuth2Session:
        method = self.config.token_endpoint_auth_method
        if method == "private_key_jwt":
            key = _private_key(self.config.client_private_key)
            client = OAuth2Session(client_id=self.config.client_id, client_secret=key,
                                   token_endpoint_auth_method=method,
                                   redirect_uri=redirect_uri, default_timeout=HTTP_TIMEOUT)
            client.register_client_auth_method(PrivateKeyJWT(metadata.token_endpoint,
                                                             alg=_assertion_alg(key)))
            return client
        client = OAuth2Session(client_id=self.config.client_id,
                               client_secret=self.config.client_secret,
                               token_endpoint_auth_method=method,
                               redirect_uri=redirect_uri, default_timeout=HTTP_TIMEOUT)
        client.register_client_auth_method(("client_secret_basic", _client_secret_basic))
        return client

    def _token_error(self, error: str, description: object) -> LoginRejected:
        """Log the provider's own words (they never contain our secret) and
        tell the user whether logging in again can help."""
        # One line, printable only: the text is the provider's, not ours.
        text = "".join(c if c.isprintable() else " " for c in str(description or "")[:300])
        log.warning("oidc token exchange refused by %s: error=%s description=%s",
                    self.config.id, "".join(c for c in error[:64] if c.isprintable()), text)
        if error in CLIENT_ERRORS:
            return LoginRejected("client_auth_failed", "The portal's connection to the "
                                 "identity provider is not set up correctly.", "administrator")
        return LoginRejected("token_exchange_failed",
                             "The identity provider refused the login code.")

    def _verify_id_token(self, metadata: ProviderMetadata, id_token: str,
                         nonce: str) -> dict[str, Any]:
        header = _jose_header(id_token)
        alg = header.get("alg")
        if alg not in metadata.signing_algorithms:
            raise LoginRejected("bad_algorithm", "The ID token is not signed acceptably.")
        kid = header.get("kid")
        key = self._find_key(kid, alg) or self._find_key(kid, alg, refresh=True)
        if key is None:
            raise LoginRejected("unknown_key", "The ID token was signed by an unknown key.")
        try:
            decoded = jwt.decode(id_token, key, algorithms=[alg])
        except JoseError as exc:
            raise LoginRejected("bad_signature", "The ID token's signature is invalid.") from exc
        claims = dict(decoded.claims)
        self._check_claims(metadata, claims, nonce)
        return claims

    def _find_key(self, kid: object, alg: str, *, refresh: bool = False) -> Any:
        keys = self._keys(refresh=refresh)
        for key in keys.keys:
            if kid is not None and key.kid != kid:
                continue
            if key.alg not in (None, alg):
                continue
            return key
        return None

    def _check_claims(self, metadata: ProviderMetadata, claims: Mapping[str, Any],
                      nonce: str) -> None:
        now = self._clock()
        if claims.get("iss") != metadata.issuer:
            raise LoginRejected("bad_iss", "The ID token names another issuer.")
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if self.config.client_id not in audiences:
            raise LoginRejected("bad_aud", "The ID token was not meant for this portal.")
        azp = claims.get("azp")
        if (len(audiences) > 1 or azp is not None) and azp != self.config.client_id:
            raise LoginRejected("bad_azp", "The ID token was issued to another party.")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp + CLOCK_SKEW < now:
            raise LoginRejected("expired", "The ID token has expired.")
        iat = claims.get("iat")
        if not isinstance(iat, int | float) or iat - CLOCK_SKEW > now:
            raise LoginRejected("bad_iat", "The ID token was issued in the future.")
        token_nonce = claims.get("nonce")
        if not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce, nonce):
            raise LoginRejected("bad_nonce", "The ID token belongs to another login.")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise LoginRejected("bad_sub", "The ID token names nobody.")

    def _with_userinfo(self, endpoint: str, access_token: str,
                       claims: Mapping[str, Any]) -> dict[str, Any]:
        try:
            response = self._http.get(endpoint, timeout=HTTP_TIMEOUT,
                                      headers={"Authorization": f"Bearer {access_token}"})
            response.raise_for_status()
            info = response.json()
        except (requests.RequestException, ValueError) as exc:
            # Claims the portal needs may only be here; say why they are missing.
            log.warning("oidc userinfo failed for %s: %s", self.config.id, type(exc).__name__)
            return dict(claims)
        # Userinfo about somebody else must never be merged (OIDC Core 5.3.2).
        if not isinstance(info, dict) or info.get("sub") != claims.get("sub"):
            raise LoginRejected("userinfo_mismatch", "The identity provider's answer conflicts.")
        merged = {k: v for k, v in info.items() if k not in claims}
        merged.update(claims)
        return merged


def _private_key(pem: str) -> RSAKey | ECKey | OKPKey:
    key = private_signing_key(pem)
    if key is None:  # from_mapping refuses this; a hand-built config may not
        raise LoginRejected("client_key_unusable", "The portal's connection to the identity "
                            "provider is not set up correctly.", "administrator")
    return key


def _assertion_alg(key: RSAKey | ECKey | OKPKey) -> str:
    if isinstance(key, ECKey):
        return {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[str(key.curve_name)]
    return "EdDSA" if isinstance(key, OKPKey) else "RS256"


def _client_secret_basic(client: Any, method: str, uri: str, headers: dict[str, str],
                         body: str) -> tuple[str, dict[str, str], str]:
    """HTTP Basic client authentication as RFC 6749 2.3.1 says: form-encode id and
    secret before base64. Authlib skips that step, so a secret with "+" or "%"
    (as ``openssl rand -base64`` makes) fails at providers that follow the RFC."""
    credentials = f"{quote_plus(client.client_id)}:{quote_plus(client.client_secret)}"
    headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
    return uri, headers, body


def _jose_header(token: str) -> dict[str, Any]:
    try:
        segment = token.split(".", 1)[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, IndexError) as exc:
        raise LoginRejected("malformed_token", "The ID token is malformed.") from exc
    if not isinstance(header, dict):
        raise LoginRejected("malformed_token", "The ID token is malformed.")
    return header
