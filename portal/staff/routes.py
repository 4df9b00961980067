"""The care coordinator's page for a case whose chair left."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
