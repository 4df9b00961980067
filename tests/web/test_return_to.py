"""After an expired session, a posted form's ``return_to`` brings the user back to
its page; anything but a bare local path is refused (never an open redirect)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from portal.web.endpoint import local_path
from tests.harness import Running
from tests.minutes.helpers import MINUTES, form, section

LOCAL = ["/", "/cases", f"{MINUTES}/edit", "/audit?child=Sam&page=2", "/a/b#part",
         "/search?q=%2F%2Fevil.example"]
REFUSED = [
    None, "", "cases", "https://evil.example/", "http://evil.example", "//evil.example",
    "//evil.example/cases", "///evil.example", "/\\evil.example", "\\\\evil.example",
    "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", " /cases", "/ /x",
    "/\x00/x", "/\x7f", "javascript:alert(1)", "data:text/html,x", "evil.example/cases",
    "https:/evil.example", "/%09/x\t",
]


@pytest.mark.parametrize("path", LOCAL)
def test_a_local_path_is_kept(path: str) -> None:
    assert local_path(path) == path


@pytest.mark.parametrize("value", REFUSED)
def test_anything_else_is_refused(value: str | None) -> None:
    assert local_path(value) is None


def expired_post(running: Running, return_to: str) -> str:
    """Where a plain form posted after the idle timeout sends the browser."""
    client = running.client()
    client.login("notulist")
    client.page(f"{MINUTES}/edit")
    running.clock.advance(minutes=16)
    data = {**form(section("Kopje", "Tekst")), "return_to": return_to,
            "csrf_token": client.csrf}
    response = client.post(MINUTES, data=data, follow_redirects=False)
    assert response.status_code == 303
    return response.headers["location"]


def test_a_form_posted_after_expiry_sends_the_login_back_to_its_page(
        running_sqlite: Running) -> None:
    editor = f"{MINUTES}/edit"
    location = expired_post(running_sqlite, editor)
    assert location == f"/login?next={editor}&expired=1"
    # Logging in again (the login carries ``next`` through the identity provider)
    # lands on the editor, not on the start page.
    client = running_sqlite.client()
    landed = client.login("notulist", provider=f"dev?next={quote(editor, safe='/')}")
    assert landed.url.path == editor, landed.url
    assert "<title>Verslag schrijven" in landed.text


@pytest.mark.parametrize("attempt", ["https://evil.example/phish", "//evil.example",
                                     "/\\evil.example", "/\t/evil.example"])
def test_a_foreign_return_to_is_ignored(running_sqlite: Running, attempt: str) -> None:
    assert expired_post(running_sqlite, attempt) == "/login?next=/&expired=1"


@pytest.mark.parametrize("attempt", ["https://evil.example/phish", "//evil.example",
                                     "/\\evil.example"])
def test_the_login_never_redirects_off_the_portal(running_sqlite: Running,
                                                  attempt: str) -> None:
    client = running_sqlite.client()
    landed = client.login("ib", provider=f"dev?next={quote(attempt, safe='')}")
    assert landed.url.host == client.base_url.host
    assert landed.url.path == "/"
