"""The guard itself: it must see a CSP violation, or "zero violations" means nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Error as PlaywrightError

from e2e.pages import LoginPage

if TYPE_CHECKING:
    from e2e.conftest import Browse


def test_csp_violations_are_detected_under_the_portals_strict_csp(browse: Browse) -> None:
    page = browse()
    LoginPage(page).open()
    csp = page.evaluate(
        "() => fetch(location.href).then(r => r.headers.get('content-security-policy'))")
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp

    # The init script ran in the page despite script-src 'self'.
    assert page.evaluate("() => Array.isArray(window.__cspViolations)")

    # Provoke two violations the way an injected template bug would: an inline
    # style attribute and an inline script element.
    page.evaluate("""() => {
        document.querySelector("h1").setAttribute("style", "color: red");
        const script = document.createElement("script");
        script.textContent = "window.__inlineRan = true";
        document.body.append(script);
    }""")
    guard = browse.guard_of(page)
    page.wait_for_function("() => window.__cspViolations.length >= 2")
    directives = {v["directive"] for v in page.evaluate("() => window.__cspViolations")}
    assert {"style-src-attr", "script-src-elem"} <= directives
    assert page.evaluate("() => window.__inlineRan === undefined")  # the CSP did block it
    # Reported to Python through the binding, and by Chromium on the console.
    for _ in range(50):
        if len(guard.csp_events) >= 2:
            break
        page.wait_for_timeout(20)
    assert {v["directive"] for v in guard.csp_events} >= {"style-src-attr", "script-src-elem"}
    assert any("Content Security Policy" in m for m in guard.csp_console)
    guard.forget_csp()
    page.evaluate("() => window.__cspViolations.length = 0")


def test_requests_outside_the_portal_are_blocked(browse: Browse) -> None:
    page = browse()
    LoginPage(page).open()
    guard = browse.guard_of(page)
    # In a page, connect-src 'self' already stops a fetch (a CSP violation,
    # which the guard reports); a top-level navigation is not under the CSP,
    # so it is what the route has to stop.
    with pytest.raises(PlaywrightError, match="ERR_BLOCKED_BY_CLIENT"):
        page.goto("http://example.org/")
    assert guard.blocked == ["http://example.org/"]
    guard.blocked.clear()
