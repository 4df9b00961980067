"""A lying provider in a real browser: refused on a clear page, nobody logged in,
and no CSP violation on the way (the guard in e2e/conftest.py watches)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from auth.config import IdentityProviderConfig
from conftest import StartPortal
from e2e.conftest import Browse
from tests.auth.rogue_op import CLIENT_ID, CLIENT_SECRET, RogueProvider
from tests.harness import FakeClock, Running, bind_socket, serve


@pytest.fixture
def rogue() -> Iterator[RogueProvider]:
    provider = RogueProvider()
    sock = bind_socket()
    provider.issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = serve(provider.app, sock, FakeClock())  # type: ignore[arg-type]
    yield provider
    server.server.should_exit = True
    server.thread.join(timeout=10)


@pytest.fixture
def portal(rogue: RogueProvider, sqlite_url: str, start_portal: StartPortal) -> Running:
    """Replaces e2e/conftest.py's portal: this one trusts only the rogue provider."""
    config = IdentityProviderConfig(
        id="rogue", issuer=rogue.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        label="Inloggen bij Rogue", organisations=("het-baken",),
        role_map={"ib": "care_coordinator"})
    return start_portal(sqlite_url, dev_idp=False, identity_providers=(config,))


def choose_rogue(page: Page) -> None:
    page.goto("/login")
    page.get_by_role("link", name="Inloggen bij Rogue").click()


@pytest.mark.parametrize(("fault", "code"), [
    ("discovery_issuer", "issuer_mismatch"),
    ("iss_param", "iss_mismatch"),
    ("alg_none", "bad_algorithm"),
    ("bad_aud", "bad_aud"),
    ("bad_nonce", "bad_nonce"),
    ("expired", "expired"),
])
def test_a_lying_provider_is_refused_in_the_browser(
        browse: Browse, rogue: RogueProvider, fault: str, code: str) -> None:
    rogue.fault = fault
    page = browse()
    choose_rogue(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen mislukt")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("code")).to_have_text(code)
    assert "eyJ" not in page.content(), "no token may be echoed"
    page.goto("/cases")
    expect(page).to_have_url(re.compile(r"/login(\?|$)"))  # nobody was logged in


def test_logout_at_a_provider_without_end_session_says_close_the_browser(
        browse: Browse) -> None:
    page = browse()
    choose_rogue(page)
    expect(page).to_have_url(re.compile(r"/$"))  # the start page
    page.get_by_role("navigation").get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("U bent uitgelogd")
    expect(page.get_by_role("alert")).to_contain_text("Sluit nu alle browservensters")
