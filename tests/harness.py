"""What the integration and browser tests run on: real servers, no mocks.

- ``PostgresServer``: a throwaway PostgreSQL cluster (initdb + pg_ctl as the
  ``postgres`` user when we are root), listening only on a unix socket.
- ``serve``: the portal under uvicorn on a socket bound to port 0 in a thread.
- ``PortalClient``: an HTTP client that logs in through the real OIDC flow.
"""

from __future__ import annotations

import contextlib
import glob
import html.parser
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette


class FakeClock:
    """A clock the tests move by hand; starts at the real time, frozen."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")
    return path


class PostgresServer:
    """A private PostgreSQL cluster in a temp dir; gone when stopped."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="mdo-pg-"))
        self.data = self.dir / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8", "--locale=C")
        options = f"-k {self.dir} -c listen_addresses='' -c fsync=off -c max_connections=200"
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-w",
                  "-l", str(self.dir / "log"), "start")

    def _run(self, *cmd: str) -> None:
        if self._as_postgres:
            cmd = ("runuser", "-u", "postgres", "--", *cmd)
        subprocess.run(cmd, check=True, capture_output=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.dir}"

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"dbname=postgres user=postgres host={self.dir}",
                             autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def dump(self, database: str) -> bytes:
        """``pg_dump`` of one database: what a backup (or an attacker with one) holds."""
        cmd: tuple[str, ...] = (_pg_bin("pg_dump"), "-h", str(self.dir), "-U", "postgres",
                                database)
        if self._as_postgres:
            cmd = ("runuser", "-u", "postgres", "--", *cmd)
        return subprocess.run(cmd, check=True, capture_output=True).stdout

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Running:
    """A portal being served: where, and the handles tests may turn."""

    base_url: str
    app: Starlette
    clock: FakeClock
    server: uvicorn.Server
    thread: threading.Thread
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def portal(self) -> Any:
        return self.app.state.portal

    clients: list[PortalClient] = field(default_factory=list)

    def client(self) -> PortalClient:
        client = PortalClient(self.base_url)
        self.clients.append(client)
        return client

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.portal.close()


def bind_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def serve(app: Starlette, sock: socket.socket, clock: FakeClock,
          tls: tuple[Path, Path] | None = None, **server: Any) -> Running:
    """``tls``: (certificate, key) PEM files, to serve https as production does;
    ``server``: more of uvicorn's options (the benchmarks' ``http`` and ``loop``)."""
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                            ssl_certfile=tls and str(tls[0]), ssl_keyfile=tls and str(tls[1]),
                            **server)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the portal did not start")
        time.sleep(0.01)
    host, port = sock.getsockname()[:2]
    scheme = "https" if tls else "http"
    return Running(base_url=f"{scheme}://{host}:{port}", app=app, clock=clock, server=server,
                   thread=thread)


class _FormParser(html.parser.HTMLParser):
    """Collects forms: action, method and input values (for following the IdP)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get"),
                               "fields": {}, "buttons": []})
        elif tag == "input" and self.forms and "name" in a:
            self.forms[-1]["fields"][a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms and "name" in a:
            self.forms[-1]["buttons"].append((a["name"], a.get("value", "")))


def parse_forms(body: str) -> list[dict[str, Any]]:
    parser = _FormParser()
    parser.feed(body)
    return parser.forms


class PortalClient(httpx.Client):
    """A browser stand-in: keeps cookies, sends Origin, follows redirects."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url=base_url, follow_redirects=True, timeout=20,
                         headers={"Origin": base_url, "Accept-Language": "nl"})
        self.csrf = ""
        self.history_of_last_login: list[httpx.Response] = []

    def login(self, persona: str, provider: str = "dev") -> httpx.Response:
        """The full OIDC flow through the persona picker of the dev IdP."""
        picker = self.get(f"/login/{provider}")
        assert picker.status_code == 200, picker.text
        form = next(f for f in parse_forms(picker.text) if f["buttons"])
        data = {**form["fields"], "persona": persona}
        response = self.post(str(picker.url.join(form["action"])), data=data)
        self.history_of_last_login = list(response.history)
        self.refresh_csrf(response.text)
        return response

    def refresh_csrf(self, body: str) -> str:
        for form in parse_forms(body):
            token = form["fields"].get("csrf_token")
            if token:
                self.csrf = token
        return self.csrf

    def page(self, path: str) -> httpx.Response:
        response = self.get(path)
        self.refresh_csrf(response.text)
        return response

    def submit(self, path: str, data: dict[str, str] | None = None,
               htmx: bool = False) -> httpx.Response:
        """POST with the session's CSRF token, as the portal's forms do."""
        if not self.csrf:
            self.page("/login")
        headers = {"HX-Request": "true", "X-CSRF-Token": self.csrf} if htmx else {}
        payload = dict(data or {})
        if not htmx:
            payload["csrf_token"] = self.csrf
        response = self.post(path, data=payload, headers=headers)
        self.refresh_csrf(response.text)
        return response
