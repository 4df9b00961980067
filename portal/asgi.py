"""ASGI entry point for process managers: ``uvicorn portal.asgi:app --workers 4``.

Settings come from ``PORTAL_*`` variables; run ``portal init`` (or ``portal db
upgrade``) first. In production the start-up checks run before the app is
built, and a problem ends the process with one line naming the setting and
the fix. Logs are JSON lines without query strings, uvicorn's access log
included (its handlers are replaced here, so no ``--log-config`` is needed).
"""

from portal.ops.startup import asgi_app

app = asgi_app()
