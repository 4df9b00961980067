"""Start-up in production: refuse with one line, before serving anything.

``portal.asgi`` (for ``uvicorn portal.asgi:app``) and ``portal run`` both come
through here, so the same checks guard every way the portal is served.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Mapping
from typing import NoReturn

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from crypto import KeyProvider
from portal.ops.checks import check_stored_keys, checking, run_checks
from portal.settings import Settings, SettingsError

log = logging.getLogger("portal.ops")

EXIT_REFUSED = 2


def refuse(line: str) -> NoReturn:
    """One line on stderr and a non-zero exit: no traceback for a configuration problem."""
    if not line.startswith("refusing to start"):
        line = f"refusing to start: {line}"
    print(f"portal: {line}", file=sys.stderr, flush=True)
    raise SystemExit(EXIT_REFUSED)


def check_or_refuse(settings: Settings, env: Mapping[str, str] | None = None,
                    key_provider: KeyProvider | None = None) -> None:
    """Production: the first fatal problem refuses start-up; warnings are logged.

    Dev mode checks only that its keyring opens the keys already stored (a
    deleted keys directory beside a kept database), before the demo data load.
    """
    if settings.mode != "production":
        with checking(settings, env, key_provider) as context:
            problem = check_stored_keys(context)
        if problem is not None:
            refuse(problem.line())
        return
    with checking(settings, env, key_provider) as context:
        for outcome in run_checks(context, stop_at_fatal=True):
            problem = outcome.problem
            if problem is None:
                continue
            if problem.fatal:
                refuse(problem.line())
            log.warning(problem.line())


def prepared_settings(env: Mapping[str, str] | None = None) -> Settings:
    from portal.app import prepare_settings
    from portal.settings_env import load_settings

    try:
        return prepare_settings(load_settings(env))
    except SettingsError as exc:
        refuse(str(exc))


def asgi_app() -> Starlette:
    """The app for ``uvicorn portal.asgi:app``: JSON logs, checks, then ``create_app``."""
    import os

    from portal.app import create_app
    from portal.ops.logs import configure, level_from

    configure(level_from(os.environ.get("PORTAL_LOG_LEVEL")))
    settings = prepared_settings()
    check_or_refuse(settings)
    app = create_app(settings)
    portal = app.state.portal

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        # A worker that stops seals the access log's pending tail on the way out.
        await run_in_threadpool(portal.close)

    app.router.lifespan_context = lifespan
    return app
