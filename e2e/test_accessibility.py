"""Every page, for every demo persona that can reach it, passes axe-core and reflows.

For each persona the test logs in through the development IdP, starts at the
start page and follows the same-origin links it finds (the navigation and the
pages' own links; GET only, never logout, never a form), up to a size cap. On
every page it

- runs axe-core's WCAG 2.0/2.1 A and AA rules at 1,280 px and expects 0
  violations, and
- checks that the page is not wider than the viewport at 320 px and at
  1,280 px (WCAG 1.4.10 reflow).

axe is injected with ``page.evaluate``: the DevTools protocol runs it in the
page without a ``<script>`` element, so the page keeps the portal's real CSP
(``script-src 'self'``) and the guard of ``e2e/conftest.py`` still fails the
test on any CSP violation.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, ViewportSize, expect

from e2e.pages import LoginPage
from portal.demo import DEMO_CASE, stable_id

if TYPE_CHECKING:
    from e2e.conftest import Browse

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_RUN = """(tags) => axe.run(document, {runOnly: {type: "tag", values: tags},
                                         resultTypes: ["violations"]})
  .then((r) => r.violations.map((v) => ({
    rule: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
  })))"""
# The page's width, and the innermost elements that stick out on the right.
WIDTH = """() => {
  const inner = window.innerWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.classList.length ? "." + [...el.classList].join(".") : "");
  const wide = [...document.body.querySelectorAll("*")]
    .filter((el) => el.getBoundingClientRect().right > inner + 1)
    .filter((el) => ![...el.children].some((c) => c.getBoundingClientRect().right > inner + 1))
    .slice(0, 5)
    .map((el) => {
      let path = name(el);
      let up = el.parentElement;
      for (let i = 0; up && i < 3; i++, up = up.parentElement) path = name(up) + " > " + path;
      return path;
    });
  return {scroll: document.documentElement.scrollWidth, inner, wide};
}"""
# Where the page leads with a GET: its links, and its GET forms (search, filters)
# submitted as they stand (an empty search for "Sam", so results are audited too).
LINKS = """() => [
  ...[...document.querySelectorAll("a[href]")].map((a) => a.href),
  ...[...document.querySelectorAll("form")].filter((f) => f.method === "get").map((f) => {
    const url = new URL(f.action);
    const data = new FormData(f);
    if (data.has("q") && !data.get("q")) data.set("q", "Sam");
    url.search = new URLSearchParams(data).toString();
    return url.href;
  }),
]"""
DESKTOP = ViewportSize(width=1280, height=900)
NARROW = ViewportSize(width=320, height=720)

# The demo personas (auth/devidp.py, portal/demo.py) by their picker name:
# every role, both schools, youth care, the FG, the administrator, and the
# family side (custody, no custody, foster parent, a pupil of 16+).
PERSONAS = {
    "mentor": "Mirjam de Vries",
    "ib": "Ilse Bakker",
    "schoolleider": "Lars Jansen",
    "jeugdhulp": "Youssef El Amrani",
    "smw": "Sanne Visser",
    "notulist": "Mila Smit",
    "jeugdbeschermer": "Jeroen Bos",
    "fg": "Fenna Gerritsen",
    "beheerder": "Anton Kramer",
    "buitenstaander": "Olga Peters",
    "ib-lichtpunt": "Lotte de Boer",
    "ouder1": "Petra Mulder",
    "ouder2": "Peter Mulder",
    "ouder-zonder-gezag": "Karim Haddad",
    "pleegouder": "Gerda Kok",
    "leerling16": "Noor Haddad",
}

MAX_PAGES = 40  # per persona
# The demo case's tabs (templates/cases/_header.html), offered first to everyone
# who takes part in it: each is its own page, with forms behind buttons.
SAM_CASE = stable_id("case", DEMO_CASE.key)
CASE_TABS = tuple(f"/cases/{SAM_CASE}{tab}" for tab in
                  ("", "/meetings", "/documents", "/actions", "/consent", "/timeline"))
IN_THE_CASE = frozenset({"mentor", "ib", "notulist"})  # portal/demo.py
MAX_PER_PATTERN = 2  # concrete pages per normalised URL (e.g. two cases, not twenty)
# Never followed: they end the session, change state on GET in an identity
# provider, or are files rather than pages.
SKIP_PATH = re.compile(
    r"^/(logout|login|auth|dev-idp|static|metrics|healthz|readyz|scim)(/|$)"
    r"|/(erase|erasure|delete|download|export)(/|$)"
    r"|\.(pdf|ics|json|csv|zip|txt|xml)$")
SKIP_ANONYMOUS = re.compile(
    r"^/(logout|auth|dev-idp|static|metrics|healthz|readyz|scim)(/|$)")
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b\d+\b")


def pattern(path_and_query: str) -> str:
    """``/cases/<uuid>/minutes/3?x=1`` -> ``/cases/{id}/minutes/{id}?x``: stable
    names for reports, and the key that caps how many of each are visited."""
    path, _, query = path_and_query.partition("?")
    keys = sorted({pair.split("=", 1)[0] for pair in query.split("&") if pair})
    return ID.sub("{id}", path) + (f"?{'&'.join(keys)}" if keys else "")


@dataclass
class Crawl:
    base_url: str
    skip: re.Pattern[str] = SKIP_PATH
    seen: set[str] = field(default_factory=set)
    per_pattern: dict[str, int] = field(default_factory=dict)
    queue: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def offer(self, href: str) -> None:
        url, _fragment = urldefrag(href)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.base_url:
            return
        local = parts.path + (f"?{parts.query}" if parts.query else "")
        if local in self.seen or self.skip.search(parts.path):
            return
        key = pattern(local)
        if self.per_pattern.get(key, 0) >= MAX_PER_PATTERN:
            return
        self.seen.add(local)
        self.per_pattern[key] = self.per_pattern.get(key, 0) + 1
        self.queue.append(local)


def log_in(page: Page, name: str, base_url: str) -> None:
    LoginPage(page).open().choose_demo_login().persona(name).click()
    page.wait_for_url(re.compile("^" + re.escape(base_url) + r"/(?!dev-idp|auth|login)"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def audit(page: Page, local: str, crawl: Crawl, axe_source: str) -> None:
    """axe at 1,280 px, then the width at 1,280 and 320 px, on the loaded page."""
    where = pattern(local)
    # A form behind a button (<details>) is part of the page: audit it open.
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    page.evaluate(axe_source)
    violations: list[dict[str, Any]] = page.evaluate(AXE_RUN, WCAG_TAGS)
    crawl.problems += [
        f"{where} ({local}): axe {v['rule']} ({v['impact']}): {v['help']} at {v['targets']}"
        for v in violations]
    for viewport in (DESKTOP, NARROW):
        page.set_viewport_size(viewport)
        width = page.evaluate(WIDTH)
        if width["scroll"] > width["inner"]:
            crawl.problems.append(
                f"{where} ({local}): {width['scroll']} px wide at {width['inner']} px "
                f"(scrolls sideways): {width['wide']}")
    page.set_viewport_size(DESKTOP)


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.skip("node_modules/axe-core is missing: run `make setup` (npm ci)")
    return AXE.read_text(encoding="utf-8")


def test_the_audit_sees_a_violation_and_a_page_too_wide(
        browse: Browse, axe_source: str) -> None:
    """The checks themselves: "0 violations" must mean axe ran, under the real CSP."""
    page = browse()
    LoginPage(page).open()
    crawl = Crawl(browse.base_url)
    audit(page, "/login", crawl, axe_source)
    assert crawl.problems == []
    # axe ran inside the page without weakening its CSP, and the CSP saw nothing to refuse.
    assert page.evaluate("() => typeof axe.run") == "function"
    assert page.evaluate("() => window.__cspViolations.length") == 0
    assert browse.guard_of(page).problems() == []
    # A button without a name, and something 2,000 px wide: made with DOM calls,
    # not inline markup, so the CSP has nothing to refuse (the guard checks).
    page.evaluate("""() => {
        document.querySelector("main").append(document.createElement("button"));
        const wide = document.createElement("canvas");
        wide.width = 2000;
        wide.height = 10;
        document.querySelector("main").append(wide);
    }""")
    audit(page, "/login", crawl, axe_source)
    assert any("axe button-name" in p for p in crawl.problems), crawl.problems
    assert any("px wide at 1280 px" in p for p in crawl.problems), crawl.problems
    assert any("px wide at 320 px" in p and "canvas" in p for p in crawl.problems), crawl.problems


def crawl_from(page: Page, crawl: Crawl, axe_source: str, signed_in: bool = True) -> None:
    """Visit the queue (and what it links to) up to the cap, auditing each page."""
    while crawl.queue and len(crawl.pages) < MAX_PAGES:
        local = crawl.queue.pop(0)
        try:
            response = page.goto(local)
        except PlaywrightError as error:
            if "Download is starting" in str(error):
                continue  # a file behind a plain link: not a page
            raise
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        landed = urlsplit(page.url)
        if not page.url.startswith(crawl.base_url) or (
                signed_in and landed.path.startswith(("/login", "/dev-idp"))):
            crawl.problems.append(f"{pattern(local)} ({local}): left the portal to {page.url}")
            continue
        crawl.pages.append(local)
        audit(page, local, crawl, axe_source)
        if response.status >= 400:
            # Not an accessibility failure, but a link that should not be offered.
            crawl.notes.append(f"{pattern(local)}: a link to a {response.status}")
            continue
        for href in page.evaluate(LINKS):
            crawl.offer(href)


def report(crawl: Crawl, who: str, started: float) -> None:
    print(f"\n{who}: {len(crawl.pages)} pages in {time.monotonic() - started:.1f} s: "
          + ", ".join(sorted({pattern(p) for p in crawl.pages})))
    for note in crawl.notes:
        print(f"  note: {note}")
    assert len(crawl.pages) >= 2, f"the crawl found nothing to audit: {crawl.pages}"
    assert not crawl.problems, (
        f"{len(crawl.problems)} problem(s) on {len(crawl.pages)} pages for {who}:\n"
        + "\n".join(crawl.problems))


def test_pages_before_login_pass_axe_and_reflow(browse: Browse, axe_source: str) -> None:
    """The login page, the public privacy page, a 404, what they link to, and the
    development IdP's persona picker."""
    started = time.monotonic()
    page = browse()
    crawl = Crawl(browse.base_url, skip=SKIP_ANONYMOUS)
    for local in ("/login", "/privacy", "/no-such-page"):
        crawl.offer(browse.base_url + local)
    crawl_from(page, crawl, axe_source, signed_in=False)
    LoginPage(page).open().choose_demo_login()
    picker = urlsplit(page.url)
    crawl.pages.append(picker.path)
    audit(page, picker.path, crawl, axe_source)
    report(crawl, "not logged in", started)


@pytest.mark.parametrize("subject", list(PERSONAS))
def test_every_reachable_page_passes_axe_and_reflows(
        browse: Browse, axe_source: str, subject: str) -> None:
    started = time.monotonic()
    page = browse()
    log_in(page, PERSONAS[subject], browse.base_url)
    crawl = Crawl(browse.base_url)
    crawl.offer(page.url)
    crawl.offer(f"{browse.base_url}/")
    if subject in IN_THE_CASE:
        for tab in CASE_TABS:
            crawl.offer(browse.base_url + tab)
    crawl_from(page, crawl, axe_source)
    if subject in IN_THE_CASE:
        assert set(CASE_TABS) <= set(crawl.pages), "every tab of the case was audited"
    report(crawl, subject, started)
