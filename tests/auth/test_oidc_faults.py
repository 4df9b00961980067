"""A provider that refuses the portal or is down: a message that says what to do,
a log line that says why (the provider's own error, never the secret), never a 500."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from auth.config import IdentityProviderConfig
from auth.login_values import LoginRejected
from auth.oidc import OidcClient
from conftest import StartPortal
from portal.audit.models import AccessRecord
from tests.auth.rogue_op import CLIENT_ID, CLIENT_SECRET, RogueProvider
from tests.harness import Running, bind_socket


def rogue_config(issuer: str, **overrides: Any) -> IdentityProviderConfig:
    return IdentityProviderConfig.from_mapping({
        "id": "rogue", "issuer": issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "label": "Rogue", "organisations": ["het-baken"],
        "role_map": {"ib": "care_coordinator"}, **overrides})


@pytest.fixture
def portal(rogue: RogueProvider, sqlite_url: str, start_portal: StartPortal) -> Running:
    return start_portal(sqlite_url, identity_providers=(rogue_config(rogue.issuer),))


def failed_logins(running: Running) -> list[str | None]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord.reason).where(
            AccessRecord.event_type == "auth.login", AccessRecord.outcome == "failed")))


def test_refused_client_credentials_say_call_the_administrator(
        portal: Running, rogue: RogueProvider, caplog: pytest.LogCaptureFixture) -> None:
    rogue.fault = "invalid_client"
    with caplog.at_level(logging.WARNING):
        response = portal.client().get("/login/rogue")
    assert response.status_code == 502
    assert "client_auth_failed" in response.text
    assert "Opnieuw inloggen helpt niet" in response.text and "beheerder" in response.text
    assert 'href="/login"' not in response.text, "no pointless 'try again'"
    logged = caplog.text
    assert "error=invalid_client description=client authentication failed" in logged
    assert CLIENT_SECRET not in logged
    assert failed_logins(portal) == ["client_auth_failed"]


def test_a_failing_token_endpoint_says_try_again_later(portal: Running,
                                                       rogue: RogueProvider) -> None:
    rogue.fault = "token_down"
    response = portal.client().get("/login/rogue")
    assert response.status_code == 503 and response.headers["retry-after"] == "60"
    assert "provider_failing" in response.text
    assert "over een paar minuten opnieuw" in response.text
    assert failed_logins(portal) == ["provider_failing"]


def test_an_unreachable_provider_says_try_again_later(sqlite_url: str,
                                                      start_portal: StartPortal) -> None:
    closed = bind_socket()  # a port that was free a moment ago and now is again
    issuer = f"http://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()
    running = start_portal(sqlite_url, identity_providers=(rogue_config(issuer),))
    response = running.client().get("/login/rogue")
    assert response.status_code == 503
    assert "provider_unreachable" in response.text
    assert "De inlogdienst is nu niet bereikbaar" in response.text
    assert failed_logins(running) == ["provider_unreachable"]


def test_a_wrong_secret_and_a_broken_provider_read_differently(
        portal: Running, rogue: RogueProvider) -> None:
    rogue.fault = "invalid_client"
    wrong_secret = portal.client().get("/login/rogue").text
    rogue.fault = "token_down"
    down = portal.client().get("/login/rogue").text
    assert "beheerder" in wrong_secret and "beheerder" not in down


def _answer(client: OidcClient, reauthenticate: bool) -> LoginRejected | str:
    """Run one login through the rogue provider, straight against ``auth``."""
    url, pending = client.begin("http://127.0.0.1:1/auth/callback",
                                reauthenticate=reauthenticate)
    location = httpx.get(url, follow_redirects=False).headers["location"]
    params = dict(httpx.URL(location).params)
    try:
        return client.complete(pending, params).subject
    except LoginRejected as rejected:
        return rejected


def test_step_up_refuses_an_answer_from_the_providers_old_session(
        rogue: RogueProvider) -> None:
    client = OidcClient(rogue_config(rogue.issuer))
    try:
        assert _answer(client, reauthenticate=True) == "rita"  # a fresh auth_time passes
        rogue.fault = "stale_auth_time"
        assert _answer(client, reauthenticate=False) == "rita"  # an ordinary login may reuse
        refused = _answer(client, reauthenticate=True)
        assert isinstance(refused, LoginRejected) and refused.code == "step_up_not_fresh"
        rogue.fault = None
        for nonsense in (None, True, "now"):  # absent, or not a number: not fresh either
            rogue.claims["auth_time"] = nonsense
            refused = _answer(client, reauthenticate=True)
            assert isinstance(refused, LoginRejected) and refused.code == "step_up_not_fresh"
        rogue.claims["auth_time"] = 4102444800.5  # a JSON number with a fraction counts
        assert _answer(client, reauthenticate=True) == "rita"
    finally:
        client.close()


def test_a_provider_without_end_session_says_close_the_browser(portal: Running) -> None:
    client = portal.client()
    assert client.get("/login/rogue").url.path == "/"
    client.page("/cases")
    out = client.submit("/logout")
    assert out.status_code == 200 and out.url.path == "/logged-out"
    assert "Sluit nu alle browservensters" in out.text
    assert str(client.get("/cases").url).split("?")[0].endswith("/login")


@pytest.mark.parametrize(("error", "code", "advice"), [
    ("temporarily_unavailable", "provider_failing", "later"),
    ("server_error", "provider_failing", "later"),
    ("access_denied", "provider_error", "retry"),
    ("l\u00f6gin_required", "provider_error", "retry"),
])
def test_an_error_in_the_callback_tells_what_to_do(rogue: RogueProvider, error: str, code: str,
                                                   advice: str) -> None:
    client = OidcClient(rogue_config(rogue.issuer))
    try:
        _, pending = client.begin("http://127.0.0.1:1/auth/callback")
        with pytest.raises(LoginRejected) as refused:
            client.complete(pending, {"error": error, "state": pending.state})
        assert (refused.value.code, refused.value.advice) == (code, advice)
    finally:
        client.close()


def test_the_providers_error_text_cannot_forge_log_lines(
        portal: Running, rogue: RogueProvider, caplog: pytest.LogCaptureFixture) -> None:
    rogue.fault = "invalid_client"
    rogue.error_description = "expired\r\nWARNING portal: admin logged in"
    with caplog.at_level(logging.WARNING, logger="auth.oidc"):
        assert portal.client().get("/login/rogue").status_code == 502
    [line] = [r.getMessage() for r in caplog.records if "refused by" in r.getMessage()]
    assert "\n" not in line and "\r" not in line
    assert "description=expired  WARNING portal: admin logged in" in line


def test_a_logout_after_expiry_needs_no_token_and_offers_the_providers(
        portal: Running) -> None:
    client = portal.client()
    client.get("/login/rogue")
    client.page("/cases")
    portal.clock.advance(minutes=16)
    out = client.submit("/logout")  # the page's token died with the session
    assert out.status_code == 200 and out.url.path == "/logged-out"
    assert "Uw sessie in het portaal was al beëindigd" in out.text
    assert 'href="/logout/rogue"' in out.text
    # This provider has no end-session endpoint: the page says to close the browser.
    closing = client.get("/logout/rogue")
    assert "Sluit nu alle browservensters" in closing.text
    assert client.get("/logout/nobody").status_code == 404
    # Only the same origin may post it: the session-ending POST is not open to other sites.
    foreign = client.post("/logout", headers={"Origin": "https://evil.example"},
                          follow_redirects=False)
    assert foreign.status_code == 403


@pytest.mark.parametrize("params", [
    {"state": "\u00e9t\u00e9", "code": "x"},
    {"state": "x" * 5000, "code": "y"},
    {"code": "\u2603", "iss": "\u00ff"},
    {},
])
def test_a_malformed_callback_is_a_clear_refusal(portal: Running,
                                                 params: dict[str, str]) -> None:
    client = portal.client()
    client.get("/login")
    response = client.get("/auth/callback", params=params)
    assert response.status_code == 400 and "unknown_state" in response.text
