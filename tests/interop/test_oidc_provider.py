"""The portal's relying party against a certified OpenID Provider nobody here wrote.

``op_server.mjs`` runs panva's ``oidc-provider`` (OpenID Certified) on loopback
with PKCE required for every authorization request, RFC 9207 ``iss`` in
authorization responses, its development login/consent screens and
RP-initiated logout. The portal is configured with it as an ordinary
professional identity provider (its own development IdP switched off) and a
``PortalClient`` walks the real screens, as a browser would.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import select as sql_select

from auth.config import EHERKENNING_ORDER, IdentityProviderConfig
from conftest import StartPortal
from portal.audit.models import AccessRecord
from portal.people.models import Person
from tests.auth.leaving import follow_refresh, refresh_target
from tests.harness import PortalClient, Running, bind_socket, parse_forms
from tests.interop.op import require_node, start_op, stop_op

pytestmark = pytest.mark.interop

PROVIDER_ID = "panva"
CLIENT_ID = "mdo-portal-interop"


@dataclass
class Interop:
    """A running OP and a portal that trusts it."""

    issuer: str
    running: Running

    @property
    def base(self) -> str:
        return self.running.base_url

    def discovery(self) -> dict[str, object]:
        response = httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=10)
        response.raise_for_status()
        return dict(response.json())


@pytest.fixture
def interop(request: pytest.FixtureRequest, sqlite_url: str, start_portal: StartPortal,
            tmp_path: Path) -> Iterator[Interop]:
    """oidc-provider and a portal that trusts it (see ``request.param`` below)."""
    require_node()
    sock = bind_socket()  # the portal's address, to register it with the OP first
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    # request.param: a client secret, or a dict of "secret", "op" (op_server.mjs
    # options), "provider" (IdentityProviderConfig fields) and portal settings.
    param = getattr(request, "param", None)
    options = dict(param) if isinstance(param, dict) else {"secret": param}
    secret = options.pop("secret", None) or secrets.token_urlsafe(32)
    op_options = options.pop("op", {})
    provider_options = options.pop("provider", {})
    try:
        process, issuer = start_op({
            "client_id": CLIENT_ID,
            "client_secret": op_options.pop("client_secret", secret),
            "redirect_uri": f"{base}/auth/callback",
            "post_logout_redirect_uri": f"{base}/logged-out",
            **op_options,
        }, tmp_path / "op.log")
    except BaseException:
        sock.close()
        raise
    try:
        provider = IdentityProviderConfig(**{
            "id": PROVIDER_ID, "issuer": issuer, "client_id": CLIENT_ID,
            "client_secret": secret, "label": "Interop OP", "kind": "professional",
            "organisations": ("het-baken",), "org_claim": "org", "role_claim": "roles",
            "role_map": {"ib": "care_coordinator"}, "min_acr": None,
            "scopes": ("openid", "profile", "email", "mdo"), **provider_options})
        running = start_portal(sqlite_url, sock=sock, dev_idp=False,
                               identity_providers=(provider,), **options)
        yield Interop(issuer=issuer, running=running)
    finally:
        stop_op(process)


def _form(response: httpx.Response, field: str) -> dict[str, object]:
    forms = [f for f in parse_forms(response.text) if field in f["fields"]]
    assert forms, f"no form with {field!r} at {response.url}:\n{response.text[:2000]}"
    return forms[0]


def _post_form(client: PortalClient, page: httpx.Response, form: dict[str, object],
               **values: str) -> httpx.Response:
    fields = dict(form["fields"])  # type: ignore[call-overload]
    return client.post(str(page.url.join(str(form["action"]))), data={**fields, **values})


def log_in(op: Interop, login: str) -> tuple[PortalClient, httpx.Response]:
    """The whole flow through the OP's devInteractions screens; returns the last page."""
    client = op.running.client()
    sign_in = client.get(f"/login/{PROVIDER_ID}")
    assert sign_in.status_code == 200, sign_in.text
    assert str(sign_in.url).startswith(f"{op.issuer}/interaction/"), sign_in.url
    # devInteractions' login form: hidden prompt=login, text "login", password
    # "password" (any password is accepted; the login name becomes the sub).
    consent = _post_form(client, sign_in, _form(sign_in, "login"),
                         login=login, password="any password")
    assert consent.status_code == 200, consent.text
    assert str(consent.url).startswith(f"{op.issuer}/interaction/"), consent.url
    # The consent screen lists the scopes/claims asked for; one "Continue" button.
    form = _form(consent, "prompt")
    assert form["fields"]["prompt"] == "consent"  # type: ignore[index]
    assert "mdo" in consent.text
    landed = _post_form(client, consent, form)
    client.refresh_csrf(landed.text)
    return client, landed


def test_full_login_through_oidc_provider(interop: Interop) -> None:
    client, landed = log_in(interop, "ilse")

    assert landed.status_code == 200, landed.text
    assert str(landed.url) == f"{interop.base}/"
    assert "Interop ilse" in landed.text, "name came from the OP's userinfo"
    assert client.get("/cases", follow_redirects=False).status_code == 200
    with interop.running.portal.sessions() as db:
        person = db.scalars(sql_select(Person).where(Person.idp == PROVIDER_ID,
                                                     Person.subject == "ilse")).one()
        logins = db.execute(
            sql_select(AccessRecord.outcome, AccessRecord.object_id, AccessRecord.reason)
            .where(AccessRecord.event_type == "auth.login")
        ).all()
    assert person.display_name == "Interop ilse"
    assert person.email == "ilse@het-baken.example"
    assert [(r.outcome, r.object_id, r.reason) for r in logins] == [
        ("allowed", person.id, None)]


def _authorization_request(op: Interop, **extra: str) -> httpx.Response:
    endpoint = str(op.discovery()["authorization_endpoint"])
    query = {"response_type": "code", "client_id": CLIENT_ID,
             "redirect_uri": f"{op.base}/auth/callback", "scope": "openid",
             "state": secrets.token_urlsafe(16), "nonce": secrets.token_urlsafe(16), **extra}
    return httpx.get(f"{endpoint}?{urlencode(query)}", follow_redirects=False, timeout=10)


def test_oidc_provider_refuses_authorization_without_pkce(interop: Interop) -> None:
    refused = _authorization_request(interop)
    assert refused.status_code in (302, 303), refused.text
    location = urlsplit(refused.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == \
        f"{interop.base}/auth/callback"
    params = parse_qs(location.query)
    assert params["error"] == ["invalid_request"]
    assert "PKCE" in params["error_description"][0]
    assert "code" not in params

    # The same request with an S256 challenge goes on to the login screen: the
    # refusal above was PKCE and nothing else.
    accepted = _authorization_request(
        interop, code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method="S256")
    assert accepted.status_code in (302, 303), accepted.text
    assert str(accepted.url.join(accepted.headers["location"])).startswith(
        f"{interop.issuer}/interaction/")


def test_callback_carries_rfc9207_iss(interop: Interop) -> None:
    assert interop.discovery()["authorization_response_iss_parameter_supported"] is True

    _, landed = log_in(interop, "ilse")

    assert str(landed.url) == f"{interop.base}/"
    callbacks = [r.url for r in landed.history
                 if str(r.url).startswith(f"{interop.base}/auth/callback")]
    assert len(callbacks) == 1, [str(r.url) for r in landed.history]
    params = callbacks[0].params
    assert params["iss"] == interop.issuer
    assert params["code"]
    assert params["state"]


def test_rp_initiated_logout_ends_both_sessions(interop: Interop) -> None:
    client, _ = log_in(interop, "ilse")
    client.page("/cases")

    leaving = client.submit("/logout")
    end_session = urlsplit(refresh_target(leaving))
    confirm = follow_refresh(client, leaving)

    assert str(confirm.url).startswith(f"{interop.issuer}/session/end"), confirm.url
    query = parse_qs(end_session.query)
    assert query["post_logout_redirect_uri"] == [f"{interop.base}/logged-out"]
    assert query["id_token_hint"][0].count(".") == 2, "the ID token of this login as hint"
    # oidc-provider asks the user to confirm; its buttons sit outside the form.
    form = _form(confirm, "xsrf")
    assert ("logout", "yes") in form["buttons"]  # type: ignore[operator]
    done = _post_form(client, confirm, form, logout="yes")

    assert done.status_code == 200, done.text
    assert str(done.url) == f"{interop.base}/logged-out"
    gone = client.get("/cases", follow_redirects=False)
    assert gone.status_code in (302, 303)
    assert urlsplit(gone.headers["location"]).path == "/login"
    with interop.running.portal.sessions() as db:
        outcomes = db.scalars(sql_select(AccessRecord.outcome)
                              .where(AccessRecord.event_type == "auth.logout")).all()
    assert outcomes == ["allowed"]

    # The OP's session is over too: logging in again shows its login screen.
    again = client.get(f"/login/{PROVIDER_ID}")
    assert str(again.url).startswith(f"{interop.issuer}/interaction/")
    assert "login" in _form(again, "login")["fields"]  # type: ignore[operator]


@pytest.mark.parametrize("interop", ["dGhpcyBpcyBh+c2VjcmV0/w=="], indirect=True)
def test_login_with_a_base64_client_secret(interop: Interop) -> None:
    """Secrets from ``openssl rand -base64`` contain '+', '/' and '='."""
    _, landed = log_in(interop, "ilse")
    assert str(landed.url) == f"{interop.base}/", landed.text[:2000]


@pytest.mark.parametrize("interop", [{"audit_dpo_acr": "http://eidas.europa.eu/LoA/high"}],
                         indirect=True)
def test_step_up_asks_oidc_provider_and_refuses_a_weaker_answer(interop: Interop) -> None:
    """oidc-provider's development screens cannot vouch for eIDAS high: the portal
    asks for it in the authorization request and refuses the ID token it gets."""
    client, _ = log_in(interop, "ilse")
    leaving = client.submit("/auth/step-up", {"next": "/cases"})
    query = parse_qs(urlsplit(refresh_target(leaving)).query)
    assert query["acr_values"] == ["http://eidas.europa.eu/LoA/high"]
    page = follow_refresh(client, leaving)
    for _ in range(3):  # the OP may show its login and/or consent screen again
        if not str(page.url).startswith(f"{interop.issuer}/interaction/"):
            break
        field = "login" if "login" in page.text and _has_field(page, "login") else "prompt"
        values = {"login": "ilse", "password": "any password"} if field == "login" else {}
        page = _post_form(client, page, _form(page, field), **values)
    assert page.status_code == 400, page.text
    assert "step_up_failed" in page.text
    with interop.running.portal.sessions() as db:
        outcomes = db.execute(sql_select(AccessRecord.outcome, AccessRecord.reason)
                              .where(AccessRecord.event_type == "auth.step_up")).all()
    assert [tuple(r) for r in outcomes] == [("failed", "step_up_failed")]


def _has_field(page: httpx.Response, field: str) -> bool:
    return any(field in f["fields"] for f in parse_forms(page.text))


EH = "urn:etoegang:core:assurance-class:"


@pytest.mark.parametrize("interop", [{
    "op": {"acr_values": [f"{EH}loa2", f"{EH}loa3"], "acr": f"{EH}loa2",
           "grant_requested_acr": False},
    "provider": {"acr_values": EHERKENNING_ORDER, "min_acr": f"{EH}loa3"}}], indirect=True)
def test_a_login_below_the_providers_eherkenning_minimum_is_refused(interop: Interop) -> None:
    client = interop.running.client()
    sign_in = client.get(f"/login/{PROVIDER_ID}")
    assert parse_qs(urlsplit(str(sign_in.history[0].headers["location"])).query)[
        "acr_values"] == [f"{EH}loa3"]
    consent = _post_form(client, sign_in, _form(sign_in, "login"), login="ilse",
                         password="any password")
    refused = _post_form(client, consent, _form(consent, "prompt"))
    assert refused.status_code == 400 and "insufficient_assurance" in refused.text
    with interop.running.portal.sessions() as db:
        assert db.scalars(sql_select(Person).where(Person.idp == PROVIDER_ID)).all() == []


@pytest.mark.parametrize("interop", [{"op": {"client_secret": "not-the-portals-secret"}}],
                         indirect=True)
def test_a_wrong_client_secret_says_call_the_administrator(
        interop: Interop, caplog: pytest.LogCaptureFixture) -> None:
    client = interop.running.client()
    sign_in = client.get(f"/login/{PROVIDER_ID}")
    consent = _post_form(client, sign_in, _form(sign_in, "login"), login="ilse",
                         password="any password")
    with caplog.at_level("WARNING", logger="auth.oidc"):
        refused = _post_form(client, consent, _form(consent, "prompt"))
    assert refused.status_code == 502 and "client_auth_failed" in refused.text
    assert "beheerder" in refused.text
    # oidc-provider's own words reach the log: the administrator sees why.
    assert "error=invalid_client description=client authentication failed" in caplog.text
