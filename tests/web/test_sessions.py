"""Server-side sessions with a frozen clock: timeouts, fixation, logout, CSRF."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from auth.config import SessionPolicy
from conftest import StartPortal
from portal.web.session_store import WebSession
from tests.harness import Running


def is_logged_in(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get("/cases").url.path == "/cases"


def test_idle_timeout(running_sqlite: Running) -> None:
    client = running_sqlite.client()
    client.login("mentor")
    running_sqlite.clock.advance(minutes=14)
    assert is_logged_in(client), "activity within 15 minutes keeps the session"
    running_sqlite.clock.advance(minutes=14)
    assert is_logged_in(client)
    running_sqlite.clock.advance(minutes=16)
    assert not is_logged_in(client)


def test_absolute_timeout_despite_activity(running_sqlite: Running) -> None:
    client = running_sqlite.client()
    client.login("mentor")
    for _ in range(33):  # 33 x 14.5 min = just under 8 hours of steady activity
        running_sqlite.clock.advance(minutes=14.5)
        assert is_logged_in(client)
    running_sqlite.clock.advance(minutes=14.5)
    assert not is_logged_in(client)


def test_htmx_after_expiry_gets_a_redirect_never_data(running_sqlite: Running) -> None:
    client = running_sqlite.client()
    client.login("ib")
    running_sqlite.clock.advance(minutes=20)
    response = client.get("/cases", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")
    assert response.text == ""


def test_session_id_changes_at_login(running_sqlite: Running) -> None:
    client = running_sqlite.client()
    client.get("/login")
    before = client.cookies.get("mdo_session")
    client.login("mentor")
    after = client.cookies.get("mdo_session")
    assert before and after and before != after
    attacker = running_sqlite.client()
    attacker.cookies.set("mdo_session", before)
    assert not is_logged_in(attacker), "the pre-login id grants nothing after login"


def test_logout_ends_the_server_side_session(running_sqlite: Running) -> None:
    client = running_sqlite.client()
    client.login("mentor")
    cookie = client.cookies.get("mdo_session")
    with running_sqlite.portal.sessions() as db:
        logged_in = db.scalar(select(func.count()).select_from(WebSession).where(
            WebSession.user_id.is_not(None)))
    assert logged_in == 1
    client.page("/cases")
    client.submit("/logout")
    with running_sqlite.portal.sessions() as db:
        assert db.scalar(select(func.count()).select_from(WebSession).where(
            WebSession.user_id.is_not(None))) == 0
    replay = running_sqlite.client()
    replay.cookies.set("mdo_session", cookie)
    assert not is_logged_in(replay), "a copied cookie dies with the logout"


def test_state_changes_need_the_csrf_token(running_sqlite: Running) -> None:
    client = running_sqlite.client()
    client.login("ib")
    refused = client.post("/cases", data={"title": "x", "purpose": "y", "anonymous": "on",
                                          "legal_basis": "consent"})
    assert refused.status_code == 403
    refused = client.post("/cases", data={"title": "x", "purpose": "y", "anonymous": "on",
                                          "legal_basis": "consent", "csrf_token": "forged"})
    assert refused.status_code == 403


def test_state_changes_must_be_same_origin(running_sqlite: Running) -> None:
    client = running_sqlite.client()
    client.login("ib")
    client.page("/cases/new")
    response = client.post("/cases", headers={"Origin": "http://evil.example"},
                           data={"title": "x", "purpose": "y", "anonymous": "on",
                                 "legal_basis": "consent", "csrf_token": client.csrf})
    assert response.status_code == 403


def test_origin_null_is_judged_by_sec_fetch_site(running_sqlite: Running) -> None:
    """Under Referrer-Policy: no-referrer browsers post forms with "Origin: null"."""
    client = running_sqlite.client()
    client.login("ib")
    client.page("/cases/new")
    form = {"title": "x", "purpose": "y", "anonymous": "on", "legal_basis": "consent",
            "csrf_token": client.csrf}
    for fetch_site, expected in (("cross-site", 403), ("same-site", 403), (None, 403),
                                 ("same-origin", 200)):
        headers = {"Origin": "null"}
        if fetch_site:
            headers["Sec-Fetch-Site"] = fetch_site
        response = client.post("/cases", headers=headers, data=form)
        assert response.status_code == expected, fetch_site


def test_htmx_after_expiry_returns_to_the_page_the_user_was_on(running_sqlite: Running) -> None:
    client = running_sqlite.client()
    client.login("ib")
    client.page("/cases")
    running_sqlite.clock.advance(minutes=20)
    response = client.post("/cases/x/participants", follow_redirects=False,
                           headers={"HX-Request": "true", "X-CSRF-Token": client.csrf,
                                    "HX-Current-URL": f"{running_sqlite.base_url}/cases"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/cases&expired=1"


def test_after_expiry_the_login_page_says_the_session_expired(running_sqlite: Running) -> None:
    client = running_sqlite.client()
    client.login("ib")
    running_sqlite.clock.advance(minutes=20)
    page = client.get("/cases")
    assert page.url.path == "/login"
    assert page.url.params["next"] == "/cases" and page.url.params["expired"] == "1"
    assert "Uw sessie is verlopen" in page.text
    # A visitor who never logged in is not told about a session they never had.
    stranger = running_sqlite.client()
    first = stranger.get("/cases")
    assert first.url.path == "/login" and "Uw sessie is verlopen" not in first.text


def test_short_idle_timeout_keeps_an_active_user_logged_in(
        sqlite_url: str, start_portal: StartPortal) -> None:
    """An idle timeout shorter than the touch interval must not log out steady activity."""
    running = start_portal(sqlite_url, sessions=SessionPolicy(idle_timeout=timedelta(seconds=50)))
    client = running.client()
    client.login("mentor")
    for _ in range(6):
        running.clock.advance(seconds=40)
        assert is_logged_in(client), "a request every 40 s keeps a 50 s idle session alive"
    running.clock.advance(seconds=51)
    assert not is_logged_in(client), "the idle timeout still applies"
