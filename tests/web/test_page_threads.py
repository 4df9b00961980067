"""Page handlers run on at most PORTAL_PAGE_THREADS threads at once; handlers that wait
on another server (the identity provider) run beside them, never in their place."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from conftest import StartPortal
from portal.settings import SettingsError, default_page_threads
from portal.settings_env import load_settings
from portal.web.endpoint import Page, endpoint
from tests.harness import Running

WAIT = 30  # seconds a blocked handler waits at most (a failing test ends, never hangs)


class Gate:
    """Handlers that block until released, counting how many run at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)
        self.running = self.most = 0
        self._lock = threading.Lock()

    def handler(self, page: Page) -> Response:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        self.entered.release()
        try:
            self.release.wait(WAIT)
        finally:
            with self._lock:
                self.running -= 1
        return PlainTextResponse("done")

    def wait_for(self, count: int) -> None:
        for _ in range(count):
            assert self.entered.acquire(timeout=WAIT), "a handler did not start"


def _routes(running: Running, **paths: Any) -> None:
    running.app.router.routes[:0] = [Route(f"/{path}", handler)
                                     for path, handler in paths.items()]


def test_no_more_page_handlers_run_at_once_than_configured(
        sqlite_url: str, start_portal: StartPortal) -> None:
    running = start_portal(sqlite_url, page_threads=2)
    gate = Gate()
    _routes(running, slow=endpoint(login=False)(gate.handler))
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = [pool.submit(running.client().get, "/slow") for _ in range(5)]
        gate.wait_for(2)
        # The other three wait for a thread; none is started while two run.
        assert not gate.entered.acquire(timeout=1)
        gate.release.set()
        assert [a.result(timeout=WAIT).status_code for a in answers] == [200] * 5
    assert gate.most == 2


def test_pages_are_served_while_logins_wait_on_the_identity_provider(
        sqlite_url: str, start_portal: StartPortal) -> None:
    running = start_portal(sqlite_url, page_threads=2)
    provider = Gate()
    _routes(running, token=endpoint(login=False, outbound=True)(provider.handler))
    with ThreadPoolExecutor(max_workers=3) as pool:
        logins = [pool.submit(running.client().get, "/token") for _ in range(3)]
        provider.wait_for(3)  # more than the page threads, all waiting on the "provider"
        page = running.client().get("/login")
        assert page.status_code == 200, "a page is served meanwhile"
        provider.release.set()
        assert [a.result(timeout=WAIT).status_code for a in logins] == [200] * 3


def test_the_setting() -> None:
    assert load_settings({}).page_threads == default_page_threads() >= 3
    assert load_settings({"PORTAL_PAGE_THREADS": "4"}).page_threads == 4


@pytest.mark.parametrize("raw", ["0", "-1", "1000", "four"])
def test_bad_page_thread_counts_are_refused(raw: str) -> None:
    with pytest.raises(SettingsError, match="PORTAL_PAGE_THREADS"):
        load_settings({"PORTAL_PAGE_THREADS": raw})
