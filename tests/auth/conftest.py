"""A rogue identity provider the tests can make lie or fail, served over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.auth.rogue_op import RogueProvider
from tests.harness import FakeClock, bind_socket, serve


@pytest.fixture
def rogue() -> Iterator[RogueProvider]:
    provider = RogueProvider()
    sock = bind_socket()
    provider.issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = serve(provider.app, sock, FakeClock())  # type: ignore[arg-type]
    yield provider
    server.server.should_exit = True
    server.thread.join(timeout=10)
