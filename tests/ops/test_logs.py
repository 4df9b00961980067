"""JSON log lines with the request's id, and no query string (OIDC code, state) in any."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.ops.logs import UVICORN_LOGGERS, configure, level_from, without_query
from tests.harness import Running, bind_socket
from tests.ops.conftest import ROOT, portal_command

SECRET_VALUES = ("c0de-that-must-not-leak", "st4te-that-must-not-leak")


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """The portal's JSON logging into a buffer; the test process's logging restored after."""
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level)
    saved = {name: (list(logging.getLogger(name).handlers), logging.getLogger(name).level,
                    logging.getLogger(name).propagate, list(logging.getLogger(name).filters))
             for name in UVICORN_LOGGERS}
    stream = io.StringIO()
    yield stream
    root.handlers[:] = saved_root[0]
    root.setLevel(saved_root[1])
    for name, (handlers, level, propagate, filters) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate
        logger.filters[:] = filters


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_an_oidc_login_leaves_no_code_or_state_in_the_log(running_sqlite: Running,
                                                          log_stream: io.StringIO) -> None:
    configure("INFO", log_stream)
    client = running_sqlite.client()
    client.login("ib")
    callback = next(r for r in client.history_of_last_login
                    if r.request.url.path == "/auth/callback")
    assert "code=" in str(callback.request.url), "the flow did pass a code in the query"
    forged = client.get("/auth/callback", params={"code": SECRET_VALUES[0],
                                                  "state": SECRET_VALUES[1]})
    assert forged.status_code == 400

    text = log_stream.getvalue()
    records = lines(log_stream)  # every line is one JSON object
    assert "code=" not in text and "state=" not in text
    assert not any(value in text for value in SECRET_VALUES)
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert any('"GET /auth/callback HTTP/1.1" 303' in r["message"] for r in access)
    served = next(r for r in access if "/auth/callback HTTP/1.1\" 303" in r["message"])
    assert served["request_id"] == callback.headers["x-request-id"]
    # A line written by the handler (in a worker thread) carries the request's id too.
    rejected = next(r for r in records if "reason=unknown_state" in r["message"])
    assert rejected["request_id"] == forged.headers["x-request-id"]
    assert rejected["level"] == "WARNING" and rejected["logger"] == "portal.login"


def test_the_log_level_is_honoured(running_sqlite: Running, log_stream: io.StringIO) -> None:
    configure(level_from("warning"), log_stream)
    client = running_sqlite.client()
    client.get("/auth/callback", params={"state": "x"})
    records = lines(log_stream)
    assert [r["level"] for r in records] == ["WARNING"]
    assert level_from("nonsense") == "INFO"


def test_without_query_keeps_the_path_and_drops_parameters() -> None:
    assert without_query('"GET /auth/callback?code=a&state=b HTTP/1.1" 303') \
        == '"GET /auth/callback HTTP/1.1" 303'
    assert without_query("token error for grant_type=authorization_code&code=abc") \
        == "token error for grant_type=authorization_code&"
    assert without_query("is this a question? yes") == "is this a question? yes"


def test_uvicorn_serving_portal_asgi_logs_json_without_query_strings(tmp_path: Path) -> None:
    """The documented ``uvicorn portal.asgi:app``: uvicorn's own access log is tamed too."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({"PORTAL_DATA_DIR": str(tmp_path / "var"), "PORTAL_LOG_LEVEL": "INFO",
                "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}"})
    assert portal_command("db", "upgrade", env=env).returncode == 0
    sock = bind_socket()
    port = sock.getsockname()[1]
    env["PORTAL_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "portal.asgi:app", "--fd", str(sock.fileno())],
        env=env, cwd=ROOT, pass_fds=(sock.fileno(),), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        sock.listen()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            ready = _wait_until_served(client, server)
            assert ready.status_code == 200
            refused = client.get("/auth/callback", params={"code": SECRET_VALUES[0],
                                                           "state": SECRET_VALUES[1]})
            assert refused.status_code == 400
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=30)
        sock.close()
    records = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert "code=" not in stderr and not any(v in stderr for v in SECRET_VALUES)
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert any(r["message"].endswith('"GET /auth/callback HTTP/1.1" 400')
               and r["request_id"] == refused.headers["x-request-id"] for r in access)


def _wait_until_served(client: httpx.Client, server: subprocess.Popen[str]) -> httpx.Response:
    # The socket is bound and listening before uvicorn starts, so a request
    # waits in the backlog until the app accepts it: no polling needed.
    try:
        return client.get("/healthz")
    except httpx.HTTPError:
        server.kill()
        raise


def test_an_error_is_logged_and_answered_with_the_request_id(running_sqlite: Running,
                                                             log_stream: io.StringIO) -> None:
    def boom(_: Request) -> Response:
        raise RuntimeError("a bug")

    running_sqlite.app.router.routes.append(Route("/boom", boom))
    configure("INFO", log_stream)
    with httpx.Client(base_url=running_sqlite.base_url) as client:
        failed = client.get("/boom", params={"code": SECRET_VALUES[0]})
    assert failed.status_code == 500
    rid = failed.headers["x-request-id"]
    assert len(rid) == 32
    error = next(r for r in lines(log_stream) if "exception" in r)
    assert error["request_id"] == rid and "RuntimeError: a bug" in error["exception"]
    assert SECRET_VALUES[0] not in log_stream.getvalue()
