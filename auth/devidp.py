"""A small but real OpenID Provider for development and demos.

It speaks the same protocol as any production IdP — discovery, JWKS, the
authorization code flow with PKCE (S256 required), RS256-signed ID tokens,
userinfo and RP-initiated logout — so the portal logs in through exactly the
client code path it uses for a school's or a parents' IdP. Instead of a
password it shows a persona picker; when the client asks for
``DEV_SECOND_FACTOR_ACR`` the picker adds a (pretend) second-factor
confirmation, and only a confirmed login gets that level in its ID token.

Security contract: this provider authenticates NOBODY; whoever can reach it
can be anyone. The portal mounts it only in dev mode, and production refuses
to start with it enabled. Authorization codes are signed, expire after 60 s
and are single-use within one process (a dev run has one).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus, urlencode

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

DEV_ACR = "urn:mdo:acr:dev"
# What a login gets after the picker's "confirm with a second factor" step,
# offered only when the client asks for it (acr_values or an essential acr claim).
DEV_SECOND_FACTOR_ACR = "urn:mdo:acr:dev:second-factor"
CODE_LIFETIME = 60
TOKEN_LIFETIME = 300


@dataclass(frozen=True)
class Persona:
    """A demo identity the picker offers."""

    subject: str
    name: str
    email: str
    description: str
    organisation: str | None = None
    roles: tuple[str, ...] = ()
    acr: str = DEV_ACR


@dataclass(frozen=True)
class DevClient:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]


Renderer = Callable[[Request, Sequence[Persona], Mapping[str, str]], Response]


class DevIdentityProvider:
    """Build with the personas, the one registered client, a signing key and a
    secret for codes; ``app`` is the ASGI application to mount at ``issuer``."""

    def __init__(self, *, issuer: str, personas: Sequence[Persona], client: DevClient,
                 signing_key: RSAKey, code_secret: bytes, render_picker: Renderer,
                 clock: Callable[[], float] = time.time) -> None:
        self.issuer = issuer
        self.personas = {p.subject: p for p in personas}
        self.client = client
        self._signing_key = signing_key
        self._code_key = OctKey.import_key(hashlib.sha256(b"devidp-code" + code_secret).digest())
        self._render_picker = render_picker
        self._clock = clock
        self._used_codes: dict[str, float] = {}
        self._lock = threading.Lock()
        self.app = Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/jwks", self.jwks),
            Route("/authorize", self.authorize, methods=["GET", "POST"]),
            Route("/token", self.token, methods=["POST"]),
            Route("/userinfo", self.userinfo, methods=["GET", "POST"]),
            Route("/logout", self.logout),
        ])

    # -- metadata ----------------------------------------------------------
    async def discovery(self, request: Request) -> Response:
        return JSONResponse({
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "end_session_endpoint": f"{self.issuer}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
            "scopes_supported": ["openid", "profile", "email"],
            "acr_values_supported": [DEV_ACR, DEV_SECOND_FACTOR_ACR],
            "claims_parameter_supported": True,
            "authorization_response_iss_parameter_supported": True,
        })

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(KeySet([self._signing_key]).as_dict(private=False))

    # -- authorization -------------------------------------------------------
    async def authorize(self, request: Request) -> Response:
        if request.method == "GET":
            params = dict(request.query_params)
        else:
            form = await request.form()
            params = {k: str(v) for k, v in form.items()}
        problem = self._check_authorization_request(params)
        if problem:
            return JSONResponse({"error": "invalid_request", "error_description": problem},
                                status_code=400)
        if request.method == "GET":
            names = ("client_id", "redirect_uri", "state", "nonce", "code_challenge",
                     "code_challenge_method", "scope", "acr_values", "claims")
            keep = {k: params[k] for k in names if k in params}
            return self._render_picker(request, list(self.personas.values()), keep)
        persona = self.personas.get(params.get("persona", ""))
        if persona is None:
            return JSONResponse({"error": "invalid_request",
                                 "error_description": "unknown persona"}, status_code=400)
        acr = persona.acr
        if DEV_SECOND_FACTOR_ACR in _requested_acrs(params) and \
                params.get("second_factor") == "confirmed":
            acr = DEV_SECOND_FACTOR_ACR
        now = int(self._clock())
        code = jwt.encode({"alg": "HS256"}, {
            "sub": persona.subject, "acr": acr, "cid": params["client_id"],
            "ruri": params["redirect_uri"],
            "nonce": params.get("nonce", ""), "pkce": params["code_challenge"],
            "exp": now + CODE_LIFETIME, "jti": secrets.token_urlsafe(16), "at": now,
        }, self._code_key)
        query = urlencode({"code": code, "state": params.get("state", ""), "iss": self.issuer})
        return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=303)

    def _check_authorization_request(self, params: Mapping[str, str]) -> str | None:
        if params.get("client_id") != self.client.client_id:
            return "unknown client"
        if params.get("redirect_uri") not in self.client.redirect_uris:
            return "redirect_uri is not registered"
        if params.get("response_type", "code") != "code":
            return "only response_type=code is supported"
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "PKCE with S256 is required"
        if "openid" not in params.get("scope", "").split():
            return "scope must include openid"
        return None

    # -- token -----------------------------------------------------------------
    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        client_id, client_secret = _client_credentials(request, form)
        if client_id != self.client.client_id or not hmac.compare_digest(
                client_secret, self.client.client_secret):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        claims = self._redeem(form.get("code", ""))
        if claims is None or claims["cid"] != client_id or \
                claims["ruri"] != form.get("redirect_uri"):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not verifier or not hmac.compare_digest(challenge, claims["pkce"]):
            return JSONResponse({"error": "invalid_grant",
                                 "error_description": "PKCE verification failed"},
                                status_code=400)
        persona = self.personas[claims["sub"]]
        now = int(self._clock())
        id_claims = {
            "iss": self.issuer, "sub": persona.subject, "aud": client_id, "azp": client_id,
            "iat": now, "exp": now + TOKEN_LIFETIME, "auth_time": claims["at"],
            "nonce": claims["nonce"], "acr": claims.get("acr", persona.acr),
            **self._profile(persona),
        }
        header = {"alg": "RS256", "kid": self._signing_key.kid, "typ": "JWT"}
        access = jwt.encode({"alg": "HS256"}, {"sub": persona.subject, "exp": now + TOKEN_LIFETIME,
                                               "scope": "openid profile email"}, self._code_key)
        return JSONResponse({
            "access_token": access, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME,
            "id_token": jwt.encode(header, id_claims, self._signing_key),
        }, headers={"Cache-Control": "no-store"})

    def _redeem(self, code: str) -> dict[str, Any] | None:
        try:
            claims = dict(jwt.decode(code, self._code_key, algorithms=["HS256"]).claims)
        except (JoseError, ValueError):
            return None
        now = self._clock()
        if not isinstance(claims.get("exp"), int) or claims["exp"] < now:
            return None
        with self._lock:
            self._used_codes = {j: t for j, t in self._used_codes.items() if t > now}
            if claims["jti"] in self._used_codes:
                return None
            self._used_codes[claims["jti"]] = claims["exp"]
        return claims

    @staticmethod
    def _profile(persona: Persona) -> dict[str, Any]:
        profile: dict[str, Any] = {"name": persona.name, "email": persona.email}
        if persona.organisation:
            profile["org"] = persona.organisation
        if persona.roles:
            profile["roles"] = list(persona.roles)
        return profile

    async def userinfo(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        try:
            claims = jwt.decode(auth[7:], self._code_key, algorithms=["HS256"]).claims
        except (JoseError, ValueError):
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        persona = self.personas.get(str(claims.get("sub")))
        if persona is None or int(claims.get("exp", 0)) < self._clock():
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse({"sub": persona.subject, **self._profile(persona)})

    async def logout(self, request: Request) -> Response:
        target = request.query_params.get("post_logout_redirect_uri")
        if target in self.client.post_logout_redirect_uris:
            return RedirectResponse(target, status_code=303)
        return JSONResponse({"logged_out": True})


def _requested_acrs(params: Mapping[str, str]) -> set[str]:
    """Levels the client asked for, through acr_values or the claims parameter."""
    wanted = set(params.get("acr_values", "").split())
    try:
        claims = json.loads(params.get("claims") or "{}")
        acr = claims.get("id_token", {}).get("acr", {}) if isinstance(claims, dict) else {}
        if isinstance(acr, dict):
            wanted.update(str(v) for v in acr.get("values", []) if isinstance(v, str))
            if isinstance(acr.get("value"), str):
                wanted.add(acr["value"])
    except (ValueError, AttributeError):
        pass  # a malformed claims parameter asks for nothing extra
    return wanted


def _client_credentials(request: Request, form: Mapping[str, str]) -> tuple[str, str]:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            raw = base64.b64decode(auth[6:]).decode()
        except (ValueError, UnicodeDecodeError):
            return "", ""
        client_id, _, secret = raw.partition(":")
        return unquote_plus(client_id), unquote_plus(secret)
    return form.get("client_id", ""), form.get("client_secret", "")
