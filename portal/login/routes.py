"""Log in through any configured OpenID Provider, log out, choose a language."""

from __future__ import annotations

import logging

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from auth.oidc import LoginRejected, PendingLogin
from auth.sessions import logged_in, remember_pending, take_pending
from portal.audit.service import record
from portal.invitations.routes import to_redemption
from portal.login.service import is_person, is_unbound_citizen, provision
from portal.web.endpoint import Page, endpoint
from portal.web.i18n import LANGUAGES

log = logging.getLogger("portal.login")


def _safe_next(value: str | None) -> str:
    """Only local paths: never an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


@endpoint(login=False)
def login_page(page: Page) -> Response:
    return page.render("login/login.html", providers=page.portal.providers,
                       next=_safe_next(page.request.query_params.get("next")))


@endpoint(login=False)
def start_login(page: Page, provider_id: str) -> Response:
    client = page.portal.oidc_clients.get(provider_id)
    if client is None:
        return page.render("errors/error.html", status=404, status_code=404, csrf_failed=False)
    # A family member about to redeem an invitation asks the IdP for the level
    # redeeming needs (from the settings; the browser only says what for).
    acr = page.portal.settings.effective_consent_acr \
        if page.request.query_params.get("for") == "invitation" else None
    try:
        url, pending = client.begin(f"{page.portal.settings.public_url}/auth/callback", acr=acr)
    except LoginRejected as rejected:
        return _rejected(page, rejected, provider_id)
    data = {**pending.to_dict(), "next": _safe_next(page.request.query_params.get("next"))}
    page.update_session(pending_logins=remember_pending(page.session, pending.state,
                                                              data).pending_logins)
    return RedirectResponse(url, status_code=303)


@endpoint()
def step_up(page: Page) -> Response:
    """Log in again through the same provider, asking for the DPO's level.

    The level comes from the settings, never from the form; the callback checks
    the ID token reaches it and that it names the same person.
    """
    client = page.portal.oidc_clients.get(page.session.provider_id or "")
    if client is None or page.actor is None:
        return page.render("errors/error.html", status=404, status_code=404, csrf_failed=False)
    required = page.portal.settings.effective_audit_dpo_acr
    try:
        url, pending = client.begin(f"{page.portal.settings.public_url}/auth/callback",
                                    acr=required)
    except LoginRejected as rejected:
        return _rejected(page, rejected, client.config.id)
    data = {**pending.to_dict(), "next": _safe_next(page.form.get("next") or "/audit"),
            "step_up_for": page.actor.person_id}
    page.update_session(pending_logins=remember_pending(page.session, pending.state,
                                                              data).pending_logins)
    return RedirectResponse(url, status_code=303)


@endpoint(login=False)
def callback(page: Page) -> Response:
    params = dict(page.request.query_params)
    session, pending_raw = take_pending(page.session, params.get("state", ""))
    page.update_session(pending_logins=session.pending_logins)
    if pending_raw is None:
        return _rejected(page, LoginRejected("unknown_state",
                                             "This login has expired or was started elsewhere."),
                         None)
    pending = PendingLogin.from_dict(pending_raw)
    client = page.portal.oidc_clients.get(pending.provider_id)
    if client is None:
        return _rejected(page, LoginRejected("unknown_provider", "Unknown login method."), None)
    try:
        verified = client.complete(pending, params)
        step_up_for = pending_raw.get("step_up_for")
        if step_up_for and not is_person(page.db, client.config, verified, step_up_for):
            # A step-up upgrades this person's session; logging in as somebody
            # else on the way is refused (before anything about them is stored),
            # not silently turned into a new login.
            raise LoginRejected("step_up_other_person",
                                "The stronger login was for another account.")
        if not step_up_for and is_unbound_citizen(page.db, client.config, verified):
            return to_redemption(page, client.config.id, verified, pending_raw.get("next"))
        person = provision(page.db, client.config, verified, page.now)
    except LoginRejected as rejected:
        return _rejected(page, rejected, pending.provider_id,
                         "auth.step_up" if pending_raw.get("step_up_for") else "auth.login")
    cookie, fresh = logged_in(page.portal.settings.session_secret, page.session, page.now,
                              user_id=person.id, provider_id=pending.provider_id,
                              acr=verified.acr, auth_time=verified.auth_time)
    page.replace_session(cookie, fresh)
    page.actor = page.portal.load_actor(page.db, person.id)
    event = "auth.step_up" if pending_raw.get("step_up_for") else "auth.login"
    record(page.db, page.requester(), page.now, event_type=event, action="execute",
           outcome="allowed", object_type="person", object_id=person.id)
    return RedirectResponse(_safe_next(pending_raw.get("next")), status_code=303)


def _rejected(page: Page, rejected: LoginRejected, provider_id: str | None,
              event_type: str = "auth.login") -> Response:
    # The code and provider only: never tokens, codes or claims.
    log.warning("login rejected: provider=%s reason=%s", provider_id, rejected.code)
    record(page.db, page.requester(), page.now, event_type=event_type, action="execute",
           outcome="failed", reason=rejected.code[:64])
    return page.render("login/rejected.html", status=400, code=rejected.code,
                       message=rejected.message)


@endpoint(login=False)
def logout(page: Page) -> Response:
    target = "/"
    if page.actor is not None:
        record(page.db, page.requester(), page.now, event_type="auth.logout",
               action="execute", outcome="allowed", object_type="person",
               object_id=page.actor.person_id)
        client = page.portal.oidc_clients.get(page.session.provider_id or "")
        if client is not None:
            target = client.logout_url(f"{page.portal.settings.public_url}/logged-out",
                                       None) or "/logged-out"
    page.end_session()
    return page.redirect(target)


@endpoint(login=False)
def logged_out(page: Page) -> Response:
    return page.render("login/logged_out.html")


@endpoint(login=False)
def choose_language(page: Page) -> Response:
    language = page.form.get("language", "")
    response = page.redirect(_safe_next(page.form.get("next")))
    if language in LANGUAGES:
        page.update_session(language=language)
        # Also a plain preference cookie, for pages served without a session
        # (errors raised before any handler runs).
        response.set_cookie("lang", language, max_age=365 * 24 * 3600, path="/",
                            secure=page.portal.settings.secure_cookies, httponly=True,
                            samesite="lax")
    return response


routes = [
    Route("/login", login_page),
    Route("/login/{provider_id}", start_login),
    Route("/auth/step-up", step_up, methods=["POST"]),
    Route("/auth/callback", callback),
    Route("/logout", logout, methods=["POST"]),
    Route("/logged-out", logged_out),
    Route("/language", choose_language, methods=["POST"]),
]
