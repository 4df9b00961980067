"""``GET /healthz`` (the process answers) and ``GET /readyz`` (it can serve).

Neither touches a session, writes an access record or says anything
sensitive: each readiness check answers ``ok`` or a short, fixed description
of what is wrong. Readiness is a list of named checks; add one with
``READINESS_CHECKS.append((name, function))`` where the function takes the
``Portal`` and returns ``None`` (ready) or a problem text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from portal.audit import health as audit_health
from portal.audit import witness
from portal.mail.models import OutboxMessage
from portal.ops.bootstrap import database_revision
from portal.ops.checks import head_revision

if TYPE_CHECKING:
    from portal.app import Portal

log = logging.getLogger("portal.ops")

# Unsent mail or undelivered checkpoints beyond these mean the background
# workers are stuck or their server is gone: take the worker out of rotation.
OUTBOX_BACKLOG_LIMIT = 500
WITNESS_BACKLOG_LIMIT = 100

ReadyCheck = Callable[["Portal"], str | None]


def database_ready(portal: Portal) -> str | None:
    with portal.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return None


def migrations_ready(portal: Portal) -> str | None:
    current = database_revision(portal.engine)
    return None if current == head_revision() else "not migrated to head"


def key_provider_ready(portal: Portal) -> str | None:
    return None if portal.vault.provider.current_version() else "no current key"


def outbox_ready(portal: Portal) -> str | None:
    with portal.sessions() as db:
        unsent = db.scalar(select(func.count()).select_from(OutboxMessage)
                           .where(OutboxMessage.sent_at.is_(None))) or 0
    return f"backlog above {OUTBOX_BACKLOG_LIMIT}" if unsent > OUTBOX_BACKLOG_LIMIT else None


def witness_ready(portal: Portal) -> str | None:
    with portal.sessions() as db:
        state = witness.status(db, portal.settings.audit_checkpoint_url,
                               portal.settings.audit_witness_vkey)
    if state is not None and state.backlog > WITNESS_BACKLOG_LIMIT:
        return f"backlog above {WITNESS_BACKLOG_LIMIT}"
    return None


def access_log_ready(portal: Portal) -> str | None:
    # The details (which checkpoint, which size) go to the log and the DPO's page.
    with portal.sessions() as db:
        problems = audit_health.problems(db, portal.settings)
    for problem in problems:
        log.error("readiness: %s", problem)
    return "not provably intact" if problems else None


READINESS_CHECKS: list[tuple[str, ReadyCheck]] = [
    ("database", database_ready),
    ("migrations", migrations_ready),
    ("key_provider", key_provider_ready),
    ("mail_outbox", outbox_ready),
    ("witness_backlog", witness_ready),
    ("access_log", access_log_ready),
]


def readiness(portal: Portal) -> dict[str, str]:
    """Each check's answer; an exception is a failure whose details go to the log only."""
    answers: dict[str, str] = {}
    for name, check in READINESS_CHECKS:
        try:
            answers[name] = check(portal) or "ok"
        except Exception:  # any failure means not ready; the log has the details
            log.exception("readiness check %s failed", name)
            answers[name] = "failed"
    return answers


async def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


async def readyz(request: Request) -> JSONResponse:
    answers = await run_in_threadpool(readiness, request.app.state.portal)
    ready = all(answer == "ok" for answer in answers.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": answers},
                        status_code=200 if ready else 503,
                        headers={"Cache-Control": "no-store"})


routes = [
    Route("/healthz", healthz, methods=["GET", "HEAD"]),
    Route("/readyz", readyz, methods=["GET", "HEAD"]),
]
