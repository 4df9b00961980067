"""A misbehaving OpenID Provider for attack tests, served over real HTTP.

It is the same shape as a real provider (discovery, JWKS, authorize, token),
but each ``fault`` makes it lie in one specific way.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "portal-test"
CLIENT_SECRET = "s3cret-for-tests"  # a test fixture, not a secret


class RogueProvider:
    def __init__(self) -> None:
        self.issuer = ""  # set once the server's port is known
        self.key = RSAKey.generate_key(2048, parameters={"alg": "RS256"}, auto_kid=True)
        self.other_key = RSAKey.generate_key(2048, parameters={"alg": "RS256"}, auto_kid=True)
        self.fault: str | None = None
        self.claims: dict[str, Any] = {"org": "het-baken", "roles": ["ib"],
                                       "name": "Rita Rogue"}
        self.nonces: dict[str, str] = {}
        self.subject = "rita"
        self.error_description = "client authentication failed"
        self.app = Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/jwks", self.jwks),
            Route("/authorize", self.authorize),
            Route("/token", self.token, methods=["POST"]),
        ])

    async def discovery(self, request: Request) -> Response:
        issuer = "http://evil.example" if self.fault == "discovery_issuer" else self.issuer
        return JSONResponse({
            "issuer": issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "id_token_signing_alg_values_supported": ["RS256", "none", "HS256"],
            "authorization_response_iss_parameter_supported": True,
        })

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        code = f"code-{len(self.nonces)}"
        self.nonces[code] = q["nonce"]
        params = {"code": code, "state": q["state"], "iss": self.issuer}
        if self.fault == "iss_param":
            params["iss"] = "http://evil.example"
        if self.fault == "iss_param_missing":
            del params["iss"]
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode(params)}", status_code=303)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        if self.fault == "invalid_client":
            return JSONResponse({"error": "invalid_client",
                                 "error_description": self.error_description},
                                status_code=401)
        if self.fault == "token_down":
            return Response("<html>502 Bad Gateway</html>", status_code=502)
        nonce = self.nonces.get(str(form["code"]), "")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "sub": self.subject, "aud": CLIENT_ID, "iat": now,
            "exp": now + 300, "nonce": nonce,
            # An answer from a session the provider opened an hour ago.
            "auth_time": now - 3600 if self.fault == "stale_auth_time" else now,
            **self.claims,
        }
        header: dict[str, Any] = {"alg": "RS256", "kid": self.key.kid}
        key: Any = self.key
        match self.fault:
            case "bad_iss":
                claims["iss"] = "http://evil.example"
            case "bad_aud":
                claims["aud"] = "someone-else"
            case "azp_missing":
                claims["aud"] = [CLIENT_ID, "someone-else"]
            case "azp_wrong":
                claims["azp"] = "someone-else"
            case "bad_nonce":
                claims["nonce"] = "not-the-nonce"
            case "expired":
                claims["iat"], claims["exp"] = now - 3600, now - 600
            case "unknown_key":
                header["kid"], key = self.other_key.kid, self.other_key
            case "hs256":
                header = {"alg": "HS256", "kid": self.key.kid}
                key = OctKey.import_key(CLIENT_SECRET.encode())
        if self.fault == "alg_none":
            token = _unsigned(claims)
        else:
            token = jwt.encode(header, claims, key, algorithms=[header["alg"]])
            if self.fault == "bad_signature":
                head, body, sig = token.split(".")
                token = f"{head}.{body}.{sig[:-6]}AAAAAA"
        return JSONResponse({"access_token": "at", "token_type": "Bearer", "id_token": token})


def _unsigned(claims: dict[str, Any]) -> str:
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
