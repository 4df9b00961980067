"""``/scim/v2``: the SCIM 2.0 endpoints (RFC 7644), served by ``scim2-server``.

Each request is one unit of work: authenticated by its organisation's bearer
token, served against ``PortalStorage`` in a worker thread, committed with its
access records, or rolled back whole on any error. A request without a valid
token gets 401 and an access record of the failed attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from scim2_models import Error, Resource, UnauthorizedException
from scim2_server.applications.asgi import ASGIApplication, Receive, Scope
from scim2_server.applications.base import BaseApplication
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from crypto import KeyUnavailable
from portal.audit.service import Requester, record
from portal.db import unit_of_work
from portal.scim import schema
from portal.scim.storage import PortalStorage
from portal.scim.tokens import organisation_for

if TYPE_CHECKING:
    from portal.app import Portal

log = logging.getLogger("portal.scim")


class ScimApplication(ASGIApplication):
    """The SCIM service, mounted under ``/scim`` by ``portal.app.create_app``."""

    def __init__(self, portal: Portal) -> None:
        provider = schema.provider()
        BaseApplication.__init__(self, provider, ScimService(provider))
        self.portal = portal
        self.models: Mapping[str, type[Resource[Any]]] = {
            str(rt.name): self.service.get_model(rt) for rt in provider.resource_types}
        self.group_roles = {entry.slug: entry.group_roles
                            for entry in portal.settings.scim_organisations}

    async def read_request(self, scope: Scope, receive: Receive) -> ScimRequest:
        request = await super().read_request(scope, receive)
        client = scope.get("client")
        request.subject = client[0] if client else None  # the address, for the record
        return request

    def handle_exception(self, request: ScimRequest, exception: Exception) -> ScimResponse:
        if isinstance(exception, SQLAlchemyError | KeyUnavailable | OSError):
            # Fail closed, as the web pages do: 503, and no statement or values in the log.
            log.error("SCIM request failed closed: %s %s: %s", request.method, request.path,
                      type(exception).__name__)
            return ScimResponse(HTTPStatus.SERVICE_UNAVAILABLE, Error(
                status=503, detail="The portal cannot serve this now").model_dump())
        return super().handle_exception(request, exception)

    async def dispatch_request(self, request: ScimRequest) -> ScimResponse:
        return await run_in_threadpool(self._serve, request)

    def _serve(self, request: ScimRequest) -> ScimResponse:
        portal = self.portal
        now = portal.clock()
        address = request.subject if isinstance(request.subject, str) else None
        if not self.needs_auth(request):
            # The service provider configuration is public (RFC 7643 §5).
            return ScimHandler(self.service, _NoStorage()).handle(request)
        try:
            with unit_of_work(portal.sessions) as db:
                organisation = organisation_for(db, request.header("Authorization"))
                if organisation is None:
                    raise UnauthorizedException(detail="A valid bearer token is needed")
                who = Requester(user_id=None, user_name=f"scim:{organisation.slug}",
                                user_role="scim", organisation_id=organisation.id,
                                session_ref=None, client_address=address)
                storage = PortalStorage(db, organisation, who, now, self.models,
                                        self.group_roles.get(organisation.slug, {}))
                response = ScimHandler(self.service, storage).handle(request)
        except UnauthorizedException:
            with unit_of_work(portal.sessions) as db:
                record(db, Requester(None, None, None, None, None, address), now,
                       event_type="scim.auth", action="execute", outcome="failed",
                       reason="invalid_token", purpose_of_use="administration")
            raise
        # Whatever the request queued (chair notices are queued by the mail round).
        portal.mail.poke()
        return response


class _NoStorage(PortalStorage):
    """What the public configuration endpoint is served with: it reads no resource."""

    def __init__(self) -> None:
        pass
