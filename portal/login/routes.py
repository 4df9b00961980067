"""Log in through any configured OpenID Provider, log out, choose a language."""

from __future__ import annotations

import logging

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from auth.login_values import LoginRejected, PendingLogin
from auth.sessions import logged_in, open_id_token, remember_pending, take_pending
from portal.audit.service import record
from portal.errors import N_
from portal.invitations.routes import to_redemption
from portal.login.service import is_person, is_unbound_citizen, provision
from portal.ops.administrator import administrator_state, no_administrator_rejection
from portal.web.endpoint import Page, endpoint, local_path
from portal.web.i18n import LANGUAGES

log = logging.getLogger("portal.login")
# What the user is told to do after a failed login, by LoginRejected.advice.
REJECTED_STATUS = {"retry": 400, "administrator": 502, "later": 503}


def _safe_next(value: str | None) -> str:
    """Only local paths: never an open redirect."""
    return local_path(value) or "/"


@endpoint(login=False)
def login_page(page: Page) -> Response:
    return page.render("login/login.html", providers=page.portal.providers,
                       next=_safe_next(page.request.query_params.get("next")),
                       administrator=administrator_state(page.db),
                       expired=page.request.query_params.get("expired") == "1")


@endpoint(login=False, outbound=True)
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
    # Reached by a link, not a form: a redirect is not under form-action.
    return RedirectResponse(url, status_code=303)


def _leave_for(page: Page, url: str, heading: str, explanation: str) -> Response:
    """Send the browser to the provider after a form POST.

    A redirect answering a form is checked against the page's CSP form-action
    in Chromium (and ``form-action 'self'`` refuses the provider), so this page
    navigates by meta refresh, which no CSP directive governs, with a link for
    browsers that ignore refreshes. The CSP stays as it is for every page.
    """
    return page.render("login/leaving.html", target=url, heading=heading,
                       explanation=explanation, csrf_token="")


@endpoint(outbound=True)
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
                                    acr=required, reauthenticate=True)
    except LoginRejected as rejected:
        return _rejected(page, rejected, client.config.id, "auth.step_up")
    data = {**pending.to_dict(), "next": _safe_next(page.form.get("next") or "/audit"),
            "step_up_for": page.actor.person_id}
    page.update_session(pending_logins=remember_pending(page.session, pending.state,
                                                              data).pending_logins)
    return _leave_for(page, url, N_("Confirm it is you"),
                      N_("You are sent to your identity provider to log in again."))


@endpoint(login=False, outbound=True)
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
                              acr=verified.acr, auth_time=verified.auth_time,
                              id_token=verified.id_token)
    page.replace_session(cookie, fresh)
    page.actor = page.portal.load_actor(page.db, person.id)
    event = "auth.step_up" if pending_raw.get("step_up_for") else "auth.login"
    record(page.db, page.requester(), page.now, event_type=event, action="execute",
           outcome="allowed", object_type="person", object_id=person.id)
    return RedirectResponse(_safe_next(pending_raw.get("next")), status_code=303)


def _rejected(page: Page, rejected: LoginRejected, provider_id: str | None,
              event_type: str = "auth.login") -> Response:
    rejected = no_administrator_rejection(page.db, rejected)
    # The code and provider only: never tokens, codes or claims.
    log.warning("login rejected: provider=%s reason=%s advice=%s", provider_id,
                rejected.code, rejected.advice)
    record(page.db, page.requester(), page.now, event_type=event_type, action="execute",
           outcome="failed", reason=rejected.code[:64])
    response = page.render("login/rejected.html", status=REJECTED_STATUS[rejected.advice],
                           code=rejected.code, message=rejected.message,
                           advice=rejected.advice)
    if rejected.advice == "later":
        response.headers["Retry-After"] = "60"
    return response


@endpoint(login=False, csrf=False, outbound=True)
def logout(page: Page) -> Response:
    """End the portal session, then the provider's (RP-initiated logout with
    the session's ID token as hint); a provider without an end-session
    endpoint leaves its session open, and the page says so.

    No CSRF token: a page left open past the session's expiry must still log
    out (its token died with the session); the same-origin check still runs.
    The portal session is already gone then, the provider's may not be: the
    page offers a logout link per provider."""
    if page.actor is None:
        page.end_session()
        return page.redirect("/logged-out?provider_session=unknown")
    record(page.db, page.requester(), page.now, event_type="auth.logout",
           action="execute", outcome="allowed", object_type="person",
           object_id=page.actor.person_id)
    client = page.portal.oidc_clients.get(page.session.provider_id or "")
    id_token = open_id_token(page.portal.settings.session_secret, page.session)
    page.end_session()
    page.actor = None
    target = None
    if client is not None:
        target = client.logout_url(f"{page.portal.settings.public_url}/logged-out", id_token)
    if target is None:
        log.info("logout: provider=%s has no end-session endpoint or cannot be reached; "
                 "its session stays open", page.session.provider_id)
        return page.redirect("/logged-out?provider_session=open")
    return _leave_for(page, target, N_("Logging you out"),
                      N_("You are logged out of the portal. You are now sent to your identity "
                         "provider to end your login there too."))


@endpoint(login=False)
def logged_out(page: Page) -> Response:
    state = page.request.query_params.get("provider_session")
    return page.render("login/logged_out.html", provider_session_open=state == "open",
                       provider_session_unknown=state == "unknown",
                       providers=page.portal.providers)


@endpoint(login=False, outbound=True)
def logout_at_provider(page: Page, provider_id: str) -> Response:
    """The provider's logout without an ID token (the portal session had
    expired): reached by a link, so a redirect, which form-action does not govern."""
    client = page.portal.oidc_clients.get(provider_id)
    if client is None:
        return page.render("errors/error.html", status=404, status_code=404, csrf_failed=False)
    target = client.logout_url(f"{page.portal.settings.public_url}/logged-out", None)
    return RedirectResponse(target or "/logged-out?provider_session=open", status_code=303)


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
    Route("/logout/{provider_id}", logout_at_provider),
    Route("/language", choose_language, methods=["POST"]),
]
