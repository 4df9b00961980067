"""A portal with SCIM tokens for two organisations, served over real HTTP."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient

from conftest import StartPortal
from portal.settings_env import scim_organisation
from tests.harness import Running

SCHOOL_A = "het-baken"
SCHOOL_B = "het-lichtpunt"


@dataclass
class Scim:
    running: Running
    tokens: dict[str, str]

    @property
    def url(self) -> str:
        return f"{self.running.base_url}/scim/v2"

    def http(self, slug: str | None = SCHOOL_A, token: str | None = None) -> httpx.Client:
        """A plain HTTP client with an organisation's token (or the given one, or none)."""
        headers = {"Content-Type": "application/scim+json"}
        bearer = token if token is not None else (self.tokens[slug] if slug else None)
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        client = httpx.Client(base_url=self.url, headers=headers, timeout=20)
        self._opened.append(client)
        return client

    def client(self, slug: str = SCHOOL_A) -> SyncSCIMClient:
        """scim2-client over httpx2, as a directory would connect."""
        raw = httpx2.Client(base_url=self.url, timeout=20,
                            headers={"Authorization": f"Bearer {self.tokens[slug]}"})
        self._opened2.append(raw)
        return SyncSCIMClient(raw)

    def __post_init__(self) -> None:
        self._opened: list[httpx.Client] = []
        self._opened2: list[httpx2.Client] = []

    def close(self) -> None:
        for client in self._opened:
            client.close()
        for raw in self._opened2:
            raw.close()


def _start(url: str, start_portal: StartPortal) -> Iterator[Scim]:
    tokens = {slug: secrets.token_urlsafe(32) for slug in (SCHOOL_A, SCHOOL_B)}
    groups = {SCHOOL_A: {"MDO Intern begeleiders": "care_coordinator"}}
    running = start_portal(url, scim_organisations=tuple(
        scim_organisation(slug, {"token": token, "groups": groups.get(slug, {})})
        for slug, token in tokens.items()))
    scim = Scim(running, tokens)
    yield scim
    scim.close()


@pytest.fixture
def scim(database_url: str, start_portal: StartPortal) -> Iterator[Scim]:
    yield from _start(database_url, start_portal)


@pytest.fixture
def scim_sqlite(sqlite_url: str, start_portal: StartPortal) -> Iterator[Scim]:
    yield from _start(sqlite_url, start_portal)
