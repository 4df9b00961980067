"""The witness's HTTP interface: a Starlette app with two routes and nothing else.

``POST /add-checkpoint`` is the C2SP tlog-witness call; ``GET /latest?origin=…``
returns the latest checkpoint this witness cosigned for a log, so a verifier
(``portal audit verify``) can require the portal's database to extend it.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from portal.witness.protocol import MAX_BODY, Answer, Witness, add_checkpoint, latest_note


def _response(answer: Answer) -> Response:
    return PlainTextResponse(answer.body, status_code=answer.status,
                             media_type=answer.content_type,
                             headers={"Cache-Control": "no-store"})


def create_app(witness: Witness) -> Starlette:
    async def add(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return _response(Answer(400, "request too large\n"))
        # Off the event loop: the check and the fsync of the new state take a moment.
        return _response(await run_in_threadpool(add_checkpoint, witness, body))

    async def latest(request: Request) -> Response:
        return _response(latest_note(witness, request.query_params.get("origin", "")))

    return Starlette(routes=[Route("/add-checkpoint", add, methods=["POST"]),
                             Route("/latest", latest, methods=["GET"])])
