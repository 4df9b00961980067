"""Security headers on every response, error pages that leak nothing."""

from __future__ import annotations

from tests.harness import Running

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def test_headers_on_pages_errors_and_redirects(running_sqlite: Running) -> None:
    client = running_sqlite.client()
    client.login("ib")
    for path in ("/cases", "/login", "/does-not-exist", "/"):
        response = client.get(path, follow_redirects=False)
        assert response.headers["content-security-policy"] == CSP, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store", path


def test_session_cookie_flags(running_sqlite: Running) -> None:
    response = running_sqlite.client().get("/login")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie


def test_unknown_pages_show_the_portal_layout_and_nothing_else(running_sqlite: Running) -> None:
    response = running_sqlite.client().get("/cases/../../etc/passwd")
    assert response.status_code == 404
    assert "Pagina niet gevonden" in response.text
    assert "Traceback" not in response.text


def test_htmx_is_served_from_our_own_static_files(running_sqlite: Running) -> None:
    client = running_sqlite.client()
    page = client.get("/login")
    assert '<script src="/static/vendor/htmx.min.js" defer></script>' in page.text
    script = client.get("/static/vendor/htmx.min.js")
    assert script.status_code == 200 and "htmx" in script.text[:2000]
    assert '"allowEval": false' in page.text and '"allowScriptTags": false' in page.text
