"""Follow the portal's "leaving for the identity provider" page as a browser would."""

from __future__ import annotations

import html
import re

import httpx

REFRESH = re.compile(r'<meta http-equiv="refresh" content="0; url=([^"]+)">')


def refresh_target(page: httpx.Response) -> str:
    """Where the page's meta refresh goes (its link says the same)."""
    found = REFRESH.search(page.text)
    assert found, f"no meta refresh at {page.url}:\n{page.text[:2000]}"
    target = html.unescape(found.group(1))
    assert f'href="{found.group(1)}"' in page.text, "the fallback link goes elsewhere"
    return target


def follow_refresh(client: httpx.Client, page: httpx.Response) -> httpx.Response:
    return client.get(refresh_target(page), follow_redirects=True)
