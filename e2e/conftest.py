"""Browser fixtures: Debian's Chromium, a portal per test, and a guard on every page.

Every page a test opens through ``browse`` (or ``portal_page``) is watched for
the whole test; at teardown the test fails if any page saw

- a Content Security Policy violation (reported two ways: a
  ``securitypolicyviolation`` listener installed by an init script, which the
  browser automation injects outside the page's CSP, and Chromium's console
  message "Refused to ... Content Security Policy ..."),
- an uncaught JavaScript error (``pageerror``),
- a request to anything but the portal on 127.0.0.1/localhost (it is aborted),
- a 5xx response from the portal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response, Route
from playwright.sync_api import Error as PlaywrightError

from tests.harness import Running

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Remove (with its use in Browse) once plain form POSTs work in a browser;
# test_forms.py::test_plain_form_post_works_in_a_real_browser then XPASSes.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
# Short timeouts: everything is local, and a stuck locator should fail fast.
ACTION_TIMEOUT_MS = 5_000
NAVIGATION_TIMEOUT_MS = 10_000

# Runs in every document before the page's own scripts. Init scripts are
# evaluated by the automation protocol, not loaded by the page, so the page's
# CSP (script-src 'self') does not apply to them.
CSP_LISTENER = """
(() => {
  const seen = [];
  Object.defineProperty(window, "__cspViolations", { value: seen, configurable: false });
  window.addEventListener("securitypolicyviolation", (event) => {
    const violation = {
      directive: event.effectiveDirective || event.violatedDirective,
      blocked: event.blockedURI,
      source: event.sourceFile,
      line: event.lineNumber,
      sample: event.sample,
      document: document.URL,
    };
    seen.push(violation);
    if (typeof window.__reportCspViolation === "function") {
      window.__reportCspViolation(violation);
    }
  }, true);
})();
"""


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    return {"executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args() -> dict[str, Any]:
    # Replaces pytest-playwright's own (which reads its deprecated base_url
    # fixture): each context gets the running portal's URL in ``browse``.
    return {"locale": "nl-NL", "timezone_id": "Europe/Amsterdam",
            "viewport": {"width": 1280, "height": 900}}


@dataclass
class Guard:
    """What one browser page did wrong, collected while the test runs."""

    page: Page
    csp_events: list[dict[str, Any]] = field(default_factory=list)
    csp_console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        found = [f"CSP violation (event): {v}" for v in self.csp_events]
        found += [f"CSP violation (console): {m}" for m in self.csp_console]
        found += [f"JavaScript error: {e}" for e in self.page_errors]
        found += [f"request outside the portal (aborted): {u}" for u in self.blocked]
        found += [f"server error: {s}" for s in self.server_errors]
        return found

    def forget_csp(self) -> None:
        """For the self-test that provokes a violation on purpose."""
        self.csp_events.clear()
        self.csp_console.clear()


class Browse:
    """Opens guarded pages on the running portal, each in its own browser
    context (so each is its own user with its own cookies)."""

    def __init__(self, new_context: Callable[..., BrowserContext], base_url: str) -> None:
        self._new_context = new_context
        self.base_url = base_url
        self.guards: list[Guard] = []

    def __call__(self) -> Page:
        context = self._new_context(base_url=self.base_url)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        page = context.new_page()
        guard = Guard(page)
        self.guards.append(guard)

        def only_local(route: Route, request: Request) -> None:
            if urlsplit(request.url).hostname in LOCAL_HOSTS:
                route.continue_()
            else:
                guard.blocked.append(request.url)
                route.abort("blockedbyclient")

        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                guard.csp_console.append(f"{message.text} (at {page.url})")

        def on_response(response: Response) -> None:
            if response.status >= 500:
                guard.server_errors.append(f"{response.status} {response.url}")

        def on_navigated(frame: Any) -> None:
            if frame == page.main_frame:
                guard.visited.append(frame.url)

        context.route("**/*", only_local)
        page.expose_binding("__reportCspViolation",
                            lambda _source, violation: guard.csp_events.append(violation))
        page.add_init_script(CSP_LISTENER)
        page.on("console", on_console)
        page.on("pageerror", lambda error: guard.page_errors.append(f"{error} (at {page.url})"))
        page.on("response", on_response)
        page.on("framenavigated", on_navigated)
        return page

    def guard_of(self, page: Page) -> Guard:
        return next(g for g in self.guards if g.page is page)


@pytest.fixture
def portal(running_sqlite: Running) -> Running:
    """The portal under test (SQLite with the demo data), served over HTTP."""
    return running_sqlite


@pytest.fixture
def browse(new_context: Callable[..., BrowserContext], portal: Running) -> Iterator[Browse]:
    """A factory of guarded pages; fails the test at teardown on any problem."""
    browse = Browse(new_context, portal.base_url)
    yield browse
    problems = problems_seen(browse)
    if problems:
        pytest.fail("browser problems seen during the test:\n" + "\n".join(problems),
                    pytrace=False)


def problems_seen(browse: Browse) -> list[str]:
    """Everything the guards of ``browse``'s pages saw go wrong, with where."""
    problems: list[str] = []
    for guard in browse.guards:
        for violation in _violations_in_page(guard.page, browse.base_url):
            if violation not in guard.csp_events:
                guard.csp_events.append(violation)
        problems += [f"{p}\n    pages visited: {guard.visited}" for p in guard.problems()]
    return problems


def _violations_in_page(page: Page, base_url: str) -> list[dict[str, Any]]:
    """What the listener recorded in the current document (the binding should
    already have reported it; this is the belt to its braces)."""
    if page.is_closed() or not page.url.startswith(base_url):
        return []
    try:
        return list(page.evaluate("() => window.__cspViolations || []"))
    except PlaywrightError:  # navigating away right now: nothing to read
        return []


@pytest.fixture
def portal_page(browse: Browse) -> Page:
    """One guarded page on the running portal, not logged in yet."""
    return browse()
