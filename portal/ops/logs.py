"""Structured logs: one JSON object per line, with the request's id, without query strings.

Query strings carry OIDC authorisation codes and states (and search terms),
so they are cut from every line: from uvicorn's access log (whose path
argument is rewritten) and, as a second net, from any message that contains
a URL-like ``?name=value``. The request id is made per request by
``RequestId``, kept in a context variable (worker threads inherit it), put on
every log line and returned as ``X-Request-Id``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id: ContextVar[str | None] = ContextVar("portal_request_id", default=None)

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# "?a=b" and what follows, up to whitespace or a quote: a query string in a URL or path.
_QUERY = re.compile(r"\?[^\s\"'<>?]*=[^\s\"'<>]*")
# The OAuth parameters themselves, wherever they appear (a form body, an error).
_SECRET_PARAMETER = re.compile(
    r"\b(?:code|state|session_state|id_token|access_token|refresh_token|code_verifier|"
    r"client_secret)=[^\s&\"'<>]*")
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def without_query(text: str) -> str:
    return _SECRET_PARAMETER.sub("", _QUERY.sub("", text))


class StripQueryStrings(logging.Filter):
    """Cut query strings from uvicorn's access-log path and from every message."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) >= 3:
            path = str(args[2])
            record.args = (*args[:2], path.split("?", 1)[0], *args[3:])
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": without_query(record.getMessage()),
            "request_id": request_id.get(),
        }
        if record.exc_info:
            entry["exception"] = without_query(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def level_from(value: str | None) -> str:
    level = (value or "INFO").strip().upper()
    return level if level in LEVELS else "INFO"


def configure(level: str = "INFO", stream: object = None) -> logging.Handler:
    """JSON lines on stderr (or ``stream``) for the portal, uvicorn and libraries.

    Replaces the handlers uvicorn installed (``uvicorn portal.asgi:app``
    configures its own before importing the app), so its access log is
    formatted and filtered the same way.
    """
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter())
    handler.addFilter(StripQueryStrings())
    root = logging.getLogger()
    for old in list(root.handlers):
        # Ours from an earlier call; a handler somebody else put on the root
        # (a test's log capture) stays.
        if isinstance(old.formatter, JsonFormatter):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in UVICORN_LOGGERS:
        # PORTAL_LOG_LEVEL governs uvicorn's loggers too (not its --log-level).
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    # The access log's own filter too: it rewrites the record before any handler sees it.
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, StripQueryStrings) for f in access.filters):
        access.addFilter(StripQueryStrings())
    # Chatty at INFO: every migration step, every connection to the dev mail catcher.
    for chatty in ("alembic", "mail.log"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    return handler


class RequestId:
    """ASGI middleware: a fresh id per HTTP request, in the context and the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Made here, never taken from the client: a log correlation id must not be forged.
        value = uuid.uuid4().hex
        # Not reset afterwards: the server runs each request in its own task
        # (its own context copy), and the error handler outside this middleware
        # and uvicorn's "Exception in ASGI application" line must still see it.
        request_id.set(value)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "x-request-id" not in headers:
                    headers.append("X-Request-Id", value)
            await send(message)

        await self.app(scope, receive, send_with_id)
