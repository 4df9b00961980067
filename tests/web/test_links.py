"""A link the portal offers opens: no persona is shown a link that answers 403 or 404.

For every demo persona the test logs in and follows the same-origin links of the
pages it reaches (GET only; never logout, login, files or erasures), a few pages per
URL shape, up to a cap. A refused or missing page behind a link the portal itself
printed is a defect of the page that printed it: the link should not be there.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest

from tests.harness import Running

PERSONAS = ("mentor", "ib", "schoolleider", "jeugdhulp", "smw", "notulist", "jeugdbeschermer",
            "fg", "beheerder", "buitenstaander", "ib-lichtpunt", "ouder1", "ouder2",
            "ouder-zonder-gezag", "pleegouder", "leerling16")
MAX_PAGES = 45
MAX_PER_SHAPE = 2
SKIP = re.compile(r"^/(logout|login|auth|dev-idp|static|metrics|healthz|readyz|scim|theme)(/|$)"
                  r"|/(erase|erasure|delete|download|export)(/|$)"
                  r"|\.(pdf|ics|json|csv|zip|txt|xml)$")
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b\d+\b")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def links_of(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


def shape(local: str) -> str:
    path, _, query = local.partition("?")
    return ID.sub("{id}", path) + ("?" + "&".join(sorted(
        p.split("=", 1)[0] for p in query.split("&") if p)) if query else "")


def test_the_link_finder_sees_links_and_skips_what_it_must() -> None:
    found = links_of('<a href="/cases/1">x</a><link href="/static/a.css"><a>y</a>'
                     '<a href="/logout">z</a>')
    assert found == ["/cases/1", "/logout"]
    assert SKIP.search("/logout") and SKIP.search("/cases/1/documents/2/download")
    assert not SKIP.search("/cases/1")
    assert shape("/cases/5f0c7a2e-1b2c-4d5e-8f90-123456789abc/minutes/3?a=1&b=2") == \
        "/cases/{id}/minutes/{id}?a&b"


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_persona_is_offered_a_link_that_is_refused(running_sqlite: Running,
                                                       persona: str) -> None:
    client = running_sqlite.client()
    landed = client.login(persona)
    assert landed.status_code == 200, landed.text
    base = running_sqlite.base_url
    queue: deque[tuple[str, str]] = deque([("/", "login")])
    seen: set[str] = {"/"}
    per_shape: dict[str, int] = {}
    visited = 0
    refused: list[str] = []
    while queue and visited < MAX_PAGES:
        local, linked_from = queue.popleft()
        response = client.get(local)
        visited += 1
        if response.status_code in (403, 404):
            refused.append(f"{local} ({response.status_code}), linked from {linked_from}")
            continue
        assert response.status_code < 500, f"{local}: {response.status_code}"
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        here = str(response.url)
        for href in links_of(response.text):
            url, _ = urldefrag(str(response.url.join(href)))
            parts = urlsplit(url)
            if not url.startswith(base) or SKIP.search(parts.path):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            key = shape(target)
            if target in seen or per_shape.get(key, 0) >= MAX_PER_SHAPE:
                continue
            seen.add(target)
            per_shape[key] = per_shape.get(key, 0) + 1
            queue.append((target, urlsplit(here).path))
    assert visited >= 2, "the crawl reached nothing"
    assert refused == [], "\n".join(refused)
