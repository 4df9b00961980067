"""Serving the metrics: a port of their own, or ``/metrics`` behind a bearer token.

Never public by default: with neither ``PORTAL_METRICS_PORT`` nor
``PORTAL_METRICS_TOKEN_FILE`` set there is no metrics endpoint at all, and the
token route answers 404 as if it did not exist.
"""

from __future__ import annotations

import errno
import hmac
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, generate_latest, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, ThreadingWSGIServer
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal import metrics
from portal.audit import witness
from portal.mail.models import OutboxMessage
from portal.mail.service import MAX_ATTEMPTS
from portal.settings import Settings

log = logging.getLogger("portal.metrics")


class Backlogs(Collector):
    """Gauges read from the database at scrape time: what waits to go out."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self._sessions = sessions
        self._witness_url = settings.audit_checkpoint_url

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self._sessions() as db:
                waiting = db.scalar(select(func.count()).where(
                    OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS))
                given_up = db.scalar(select(func.count()).where(
                    OutboxMessage.sent_at.is_(None), OutboxMessage.attempts >= MAX_ATTEMPTS))
                pending = witness.status(db, self._witness_url)
        except SQLAlchemyError as exc:  # a scrape must not fail: up stays 1, this says why
            log.warning("metrics: backlogs not readable: %s", type(exc).__name__)
            yield GaugeMetricFamily("portal_backlog_readable",
                                    "1 when the backlogs below could be read.", value=0)
            return
        yield GaugeMetricFamily("portal_backlog_readable",
                                "1 when the backlogs below could be read.", value=1)
        yield GaugeMetricFamily("portal_mail_outbox_backlog",
                                "Messages waiting in the outbox to be sent.", value=waiting or 0)
        yield GaugeMetricFamily("portal_mail_outbox_given_up",
                                "Messages the portal stopped retrying (see last_error).",
                                value=given_up or 0)
        if pending is not None:
            yield GaugeMetricFamily("portal_witness_backlog",
                                    "Sealed checkpoints not yet accepted by the witness.",
                                    value=pending.backlog)


def make_registry(sessions: sessionmaker[Session], settings: Settings) -> CollectorRegistry:
    registry = CollectorRegistry()
    for collector in metrics.SHARED:
        registry.register(collector)
    registry.register(Backlogs(sessions, settings))
    return registry


def serve(registry: CollectorRegistry, address: str, port: int) -> WSGIServer | None:
    """The metrics on a port of their own, in a daemon thread; ``shutdown()`` stops it.

    One process, one port: ``uvicorn --workers N`` gives all its workers one
    environment, so all but the first would find the port taken. They carry
    on without metrics and say so, rather than failing to start."""
    try:
        server = make_server(address, port, make_wsgi_app(registry), ThreadingWSGIServer,
                             handler_class=_QuietHandler)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        log.error("PORTAL_METRICS_PORT %d is taken (another worker of this environment?): "
                  "this process serves no metrics; run one `portal run` per worker, each "
                  "with its own PORTAL_METRICS_PORT (docs/operations.md)", port)
        return None
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None  # a scrape every 15 seconds would drown the log


def metrics_page(request: Request) -> Response:
    """``GET /metrics`` with ``Authorization: Bearer <PORTAL_METRICS_TOKEN_FILE>``.

    Answered here, before the portal's routes: no session, no access record."""
    portal = request.app.state.portal
    token: str = portal.settings.metrics_token
    if not token or request.method not in ("GET", "HEAD"):
        return portal.error_response(request, 404)  # type: ignore[no-any-return]
    presented = request.headers.get("authorization", "")
    if not hmac.compare_digest(presented.encode(), f"Bearer {token}".encode()):
        return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return Response(generate_latest(portal.metrics_registry),
                    headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


class RequestTimer:
    """ASGI middleware: each request's duration, labelled with its route template.

    It also answers ``/metrics`` (``metrics_page``), which is not one of the
    portal's pages and is not timed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._templates: dict[Any, str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/metrics":
            await metrics_page(Request(scope, receive))(scope, receive, send)
            return
        if self._templates is None:
            # Before the call: a mounted app (the dev IdP) puts itself in scope["app"].
            self._templates = route_templates(getattr(scope.get("app"), "routes", []))
        started = time.perf_counter()
        status = 500

        async def remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, remember_status)
        finally:
            metrics.REQUEST_SECONDS.labels(
                method=scope["method"], route=self._template(scope),
                status=f"{status // 100}xx").observe(time.perf_counter() - started)

    def _template(self, scope: Scope) -> str:
        """The route's path template, e.g. ``/cases/{case_id}``, never the raw path."""
        return self._templates.get(scope.get("endpoint"), "unmatched") \
            if self._templates else "unmatched"


def route_templates(routes: Iterable[BaseRoute], prefix: str = "") -> dict[Any, str]:
    """Endpoint -> path template, mounted apps' routes under their mount's path."""
    templates: dict[Any, str] = {}
    for route in routes:
        path = prefix + str(getattr(route, "path", ""))
        if isinstance(route, Mount):
            templates[route.app] = path or "/"
            templates.update(route_templates(route.routes, path))
        elif hasattr(route, "endpoint"):
            templates[route.endpoint] = path or "/"
    return templates
