"""``create_app(settings)``: the one place where the portal is assembled."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import anyio
from jinja2 import Environment
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from auth.config import IdentityProviderConfig
from auth.devidp import DevClient, DevIdentityProvider, Persona
from auth.oidc import OidcClient
from crypto import KeyProvider
from portal import demo, devkeys
from portal.admin import routes as admin_routes
from portal.audit import keys as audit_keys
from portal.audit import ledger as audit_ledger
from portal.audit import routes as audit_routes
from portal.audit import witness as audit_witness
from portal.breaches import routes as breach_routes
from portal.cases import routes as case_routes
from portal.consent import routes as consent_routes
from portal.db import make_engine, session_factory
from portal.documents import routes as document_routes
from portal.documents.blobs import make_blob_stores
from portal.dpo import routes as dpo_routes
from portal.home import routes as home_routes
from portal.invitations import routes as invitation_routes
from portal.jobs.schedule import background_jobs
from portal.login import routes as login_routes
from portal.mail import routes as mail_routes
from portal.mail.catcher import MailCatcher
from portal.mail.service import MailDispatcher, SmtpConfig
from portal.meetings import routes as meeting_routes
from portal.metrics import exporter as metrics_exporter
from portal.minutes import routes as minutes_routes
from portal.notifications import routes as notification_routes
from portal.ops import health as ops_health
from portal.ops.logs import RequestId, request_id
from portal.parents import routes as parent_routes
from portal.people import names
from portal.policy import Actor
from portal.register import routes as register_routes
from portal.requests import routes as request_routes
from portal.retention import routes as retention_routes
from portal.rights import routes as rights_routes
from portal.scim.app import ScimApplication
from portal.scim.tokens import sync_tokens_at_start
from portal.search import routes as search_routes
from portal.settings import Settings
from portal.staff import routes as staff_routes
from portal.theme import load_theme
from portal.theme import routes as theme_routes
from portal.timeline import routes as timeline_routes
from portal.vault import routes as vault_routes
from portal.vault.keyring import make_key_provider
from portal.vault.service import Vault
from portal.web import i18n
from portal.web.endpoint import _load_actor
from portal.web.headers import SecurityHeaders
from portal.web.templating import make_environment

log = logging.getLogger("portal")

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
DEV_CLIENT_ID = "mdo-portal-dev"
ERROR_STATUSES = (400, 403, 404, 405, 413, 500, 503)


class Portal:
    """Everything a request needs, built once per process."""

    def __init__(self, settings: Settings, *, engine: Engine | None = None,
                 clock: Callable[[], datetime] | None = None,
                 key_provider: KeyProvider | None = None) -> None:
        self.settings = settings
        self.clock = clock or (lambda: datetime.now(UTC))
        # How many page handlers run at once (portal.web.endpoint), made on first use.
        self.page_limiter: anyio.CapacityLimiter | None = None
        self.engine = engine or make_engine(settings.effective_database_url)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        if settings.audit_signing_key:
            audit_ledger.configure(self.sessions, audit_keys.audit_config(settings))
        if settings.scim_organisations:
            sync_tokens_at_start(self.sessions, settings.scim_organisations, self.clock())
        self.templates: Environment = make_environment(reload=settings.template_reload)
        self.vault = Vault(key_provider or make_key_provider(settings))
        self.blobs = make_blob_stores(settings)
        names.seal_citizen_names(self.sessions, self.vault, self.clock)
        self.dev_idp: DevIdentityProvider | None = None
        providers = list(settings.identity_providers)
        if settings.dev_idp:
            self.dev_idp, dev_config = self._make_dev_idp()
            providers.insert(0, dev_config)
        self.providers: Sequence[IdentityProviderConfig] = providers
        self.metrics_registry = metrics_exporter.make_registry(self.sessions, settings)
        self.metrics_server = (metrics_exporter.serve(self.metrics_registry,
                                                      settings.metrics_address,
                                                      settings.metrics_port)
                               if settings.metrics_port else None)
        self.mail_catcher, self.smtp = self._mail_transport()
        self.mail = MailDispatcher(self.sessions, self.smtp, self.clock,
                                   interval=settings.jobs_interval_seconds,
                                   jobs=background_jobs(settings, self.vault))
        self.mail.start()
        self.witness = audit_witness.start_for(self.sessions, settings, self.clock)
        self.oidc_clients: Mapping[str, OidcClient] = {
            p.id: OidcClient(p, clock=lambda: self.clock().timestamp()) for p in providers
        }

    def close(self) -> None:
        for client in self.oidc_clients.values():
            client.close()
        self.mail.stop()
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
            self.metrics_server.server_close()
        if self.witness is not None:
            self.witness.stop()
        if self.mail_catcher is not None:
            self.mail_catcher.stop()
        self.engine.dispose()

    def _mail_transport(self) -> tuple[MailCatcher | None, SmtpConfig]:
        settings = self.settings
        if settings.smtp_host:
            return None, SmtpConfig(host=settings.smtp_host, port=settings.smtp_port,
                                    sender=settings.smtp_from, starttls=settings.smtp_starttls,
                                    username=settings.smtp_username,
                                    password=settings.smtp_password)
        # Dev mode without a mail server: catch everything on loopback.
        catcher = MailCatcher().start()
        return catcher, SmtpConfig(host="127.0.0.1", port=catcher.port, sender=settings.smtp_from)

    def load_actor(self, db: Session, person_id: str) -> Actor | None:
        return _load_actor(db, person_id, self.vault)

    def _make_dev_idp(self) -> tuple[DevIdentityProvider, IdentityProviderConfig]:
        data_dir = self.settings.data_dir
        issuer = f"{self.settings.public_url}/dev-idp"
        secret = devkeys.dev_idp_client_secret(data_dir)
        personas = demo.personas()
        idp = DevIdentityProvider(
            issuer=issuer,
            personas=personas,
            client=DevClient(
                client_id=DEV_CLIENT_ID, client_secret=secret,
                redirect_uris=(f"{self.settings.public_url}/auth/callback",),
                post_logout_redirect_uris=(f"{self.settings.public_url}/logged-out",),
            ),
            signing_key=devkeys.dev_idp_signing_key(data_dir),
            code_secret=secret.encode(),
            render_picker=self._render_persona_picker,
            clock=lambda: self.clock().timestamp(),
        )
        config = IdentityProviderConfig(
            id=demo.DEV_IDP_ID, issuer=issuer, client_id=DEV_CLIENT_ID, client_secret=secret,
            label="Demo-inlog (ontwikkeling)", kind="mixed",
            organisations=tuple(slug for slug, _, _ in demo.ORGANISATIONS),
            role_map={role: role for p in personas for role in p.roles},
        )
        return idp, config

    def _render_persona_picker(self, request: Request, personas: Sequence[Persona],
                               params: Mapping[str, str]) -> Response:
        i18n.set_language(i18n.negotiate(None, request.headers.get("accept-language"),
                                         self.settings.default_language))
        return HTMLResponse(self.templates.get_template("devidp/authorize.html").render(
            personas=personas, params=params, actor=None, dev_mode=True,
            csrf_token="", request_path=request.url.path))

    def error_response(self, request: Request, status: int) -> Response:
        """An error page in the portal's layout that leaks nothing."""
        i18n.set_language(i18n.negotiate(request.cookies.get("lang"),
                                         request.headers.get("accept-language"),
                                         self.settings.default_language))
        body = self.templates.get_template("errors/error.html").render(
            status_code=status, actor=None, csrf_token="", dev_mode=False,
            request_path=request.url.path, csrf_failed=False)
        return HTMLResponse(body, status_code=status)


def prepare_settings(settings: Settings) -> Settings:
    """Fill dev-mode secrets from the data directory; refuse unsafe production settings."""
    if settings.mode == "dev":
        devkeys.ensure_data_dir(settings.data_dir)
        if not settings.session_secret:
            settings = replace(settings, session_secret=devkeys.session_secret(settings.data_dir),
                               session_secret_generated=True)
    settings = audit_keys.prepare_signing_key(settings)
    settings.check()
    return settings


def create_app(settings: Settings, *, engine: Engine | None = None,
               clock: Callable[[], datetime] | None = None,
               key_provider: KeyProvider | None = None) -> Starlette:
    settings = prepare_settings(settings)
    theme = load_theme(settings)  # a deployment's tokens and logo (portal/theme)
    portal = Portal(settings, engine=engine, clock=clock, key_provider=key_provider)
    portal.templates.globals["theme"] = theme

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        response = portal.error_response(request, status if status in ERROR_STATUSES else 500)
        # A 500 is answered outside the middleware that adds it; the id is still current.
        response.headers["X-Request-Id"] = request_id.get() or ""
        return response

    routes = [
        *login_routes.routes,
        *home_routes.routes,
        *case_routes.routes,
        *admin_routes.routes,
        *document_routes.routes,
        *audit_routes.routes,
        *meeting_routes.routes,
        *minutes_routes.routes,
        *consent_routes.routes,
        *parent_routes.routes,
        *timeline_routes.routes,
        *ops_health.routes,
        *invitation_routes.routes,
        *staff_routes.routes,
        Mount("/scim", app=cast(ASGIApp, ScimApplication(portal))),
        *register_routes.routes,
        *vault_routes.routes,
        *dpo_routes.routes,
        *rights_routes.routes,
        *breach_routes.routes,
        *retention_routes.routes,
        *request_routes.routes,
        *notification_routes.routes,
        *search_routes.routes,
        Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"),
    ]
    routes.extend(theme_routes(theme))
    if portal.dev_idp is not None:
        routes.append(Mount("/dev-idp", app=portal.dev_idp.app))
    if portal.mail_catcher is not None:
        routes.extend(mail_routes.dev_routes)
    app = Starlette(
        routes=routes,
        middleware=[Middleware(RequestId), Middleware(metrics_exporter.RequestTimer),
                    Middleware(SecurityHeaders, production=settings.mode == "production")],
        exception_handlers={HTTPException: http_error, Exception: http_error},
        max_body_size=1024 * 1024,
    )
    app.state.portal = portal
    return app

