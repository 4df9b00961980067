"""Invitation pages: the school's overview and per-child page; the invitee's redemption."""

from __future__ import annotations

from dataclasses import replace

from starlette.responses import Response
from starlette.routing import Route

from auth.login_values import VerifiedLogin
from auth.sessions import logged_in, new_session
from portal.audit.service import record
from portal.errors import InvalidInput
from portal.invitations import redeem, service
from portal.invitations.codes import MAX_CODE_LENGTH, InvitationKeys, clean_code
from portal.people.models import PersonKind
from portal.web.endpoint import Page, endpoint
from portal.web.session_store import SqlSessionStore

REDEEM_PATH = "/invitation"


def _keys(page: Page) -> InvitationKeys:
    settings = page.portal.settings
    return InvitationKeys(secret=settings.session_secret, public_url=settings.public_url,
                          days=settings.invitation_days)


# -- the school ----------------------------------------------------------------

@endpoint()
def invitations_overview(page: Page) -> Response:
    children = service.overview(page.db, page.portal.vault, page.requester(), page.user,
                                page.now)
    return page.render("invitations/overview.html", children=children)


def _child_page(page: Page, child_id: str, errors: dict[str, str],
                values: dict[str, str]) -> Response:
    view = service.child_invitations(page.db, page.portal.vault, page.requester(), page.user,
                                     page.now, child_id)
    return page.render("invitations/child.html", status=400 if errors else 200, view=view,
                       errors=errors, values=values, now=page.now,
                       done=page.request.query_params.get("done", ""))


@endpoint()
def invitation_child(page: Page, child_id: str) -> Response:
    return _child_page(page, child_id, {}, {})


@endpoint()
def send_invitation(page: Page, child_id: str) -> Response:
    try:
        service.invite(page.db, page.portal.vault, page.requester(), page.user, page.now,
                       _keys(page), child_id, person_key=page.form.get("person", ""),
                       email=page.form.get("email", ""))
    except InvalidInput as invalid:
        return _child_page(page, child_id, invalid.errors, dict(page.form))
    return page.redirect(f"/invitations/children/{child_id}?done=sent")


@endpoint()
def resend_invitation(page: Page, child_id: str, invitation_id: str) -> Response:
    try:
        service.resend(page.db, page.requester(), page.user, page.now, _keys(page),
                       invitation_id)
    except InvalidInput as invalid:
        return _child_page(page, child_id, invalid.errors, {})
    return page.redirect(f"/invitations/children/{child_id}?done=resent")


@endpoint()
def revoke_invitation(page: Page, child_id: str, invitation_id: str) -> Response:
    try:
        service.revoke(page.db, page.requester(), page.user, page.now, invitation_id)
    except InvalidInput as invalid:
        return _child_page(page, child_id, invalid.errors, {})
    return page.redirect(f"/invitations/children/{child_id}?done=revoked")


@endpoint()
def unbind_family_login(page: Page, child_id: str) -> Response:
    try:
        service.unbind(page.db, SqlSessionStore(page.db), page.requester(), page.user,
                       page.now, child_id, page.form.get("person", ""))
    except InvalidInput as invalid:
        return _child_page(page, child_id, invalid.errors, {})
    return page.redirect(f"/invitations/children/{child_id}?done=unbound")


# -- the invitee -----------------------------------------------------------------

def to_redemption(page: Page, provider_id: str, verified: VerifiedLogin,
                  next_path: object) -> Response:
    """After the callback: a family login no person is bound to goes to redeem a code.

    The session gets a new id (as at any login) and holds the verified login
    until a code binds it; the person is not logged in before that.
    """
    login = redeem.UnboundLogin(provider_id=provider_id, subject=verified.subject,
                                acr=verified.acr, auth_time=verified.auth_time)
    cookie, fresh = new_session(page.portal.settings.session_secret, page.now)
    fresh = login.remember(replace(fresh, language=page.session.language), page.now)
    page.replace_session(cookie, fresh)
    record(page.db, page.requester(), page.now, event_type="auth.login", action="execute",
           outcome="failed", reason="not_linked_to_person")
    target = next_path if isinstance(next_path, str) and next_path.startswith(
        REDEEM_PATH + "/") and clean_code(next_path.removeprefix(REDEEM_PATH + "/")) \
        else REDEEM_PATH
    return page.redirect(target)


def _redeem_page(page: Page, code: str, status: int = 200, error: str = "",
                 typed: str = "") -> Response:
    family_providers = [p for p in page.portal.providers if p.kind in ("citizen", "mixed")]
    invitee = redeem.UnboundLogin.of(page.session)
    return page.render("invitations/redeem.html", status=status, code=code,
                       logged_in=invitee is not None or page.actor is not None,
                       providers=family_providers, error=error, typed=typed,
                       next=f"{REDEEM_PATH}/{code}" if code else REDEEM_PATH)


@endpoint(login=False)
def invitation_code_form(page: Page) -> Response:
    return _redeem_page(page, "")


@endpoint(login=False)
def invitation_link(page: Page, code: str) -> Response:
    if clean_code(code) is None:
        return _redeem_page(page, "", status=400, error="unknown_code")
    if redeem.UnboundLogin.of(page.session) is not None or page.actor is not None:
        redeem.mark_opened(page.db, page.requester(), page.now,
                           page.portal.settings.session_secret, code)
    return _redeem_page(page, code)


@endpoint(login=False)
def redeem_invitation(page: Page) -> Response:
    # A person logged in speaks for themselves, whatever an earlier unbound
    # login left in the session.
    invitee = None if page.actor else redeem.UnboundLogin.of(page.session)
    actor = page.actor if page.actor and page.actor.kind is PersonKind.CITIZEN else None
    redeemer = redeem.Redeemer(login=invitee, person_id=actor.person_id if actor else None,
                               acr=invitee.acr if invitee else page.session.acr)
    code = page.form.get("code", "")
    try:
        person = redeem.redeem(page.db, page.requester(), page.now,
                               page.portal.settings.session_secret,
                               page.portal.settings.effective_consent_acr, redeemer, code)
    except redeem.RedemptionRefused as refused:
        if refused.reason is redeem.Refusal.NOT_LOGGED_IN:
            return _redeem_page(page, clean_code(code) or "", status=400,
                                error=refused.reason.value)
        if refused.reason is redeem.Refusal.UNKNOWN_CODE:
            # The form again, with what was typed: a typing error is the likely cause.
            return _redeem_page(page, "", status=400, error="wrong_code",
                                typed=code[:MAX_CODE_LENGTH])
        status = 429 if refused.reason is redeem.Refusal.RATE_LIMITED else 400
        return page.render("invitations/refused.html", status=status,
                           reason=refused.reason.value)
    if invitee is not None:
        cookie, fresh = logged_in(page.portal.settings.session_secret,
                                  redeem.forget(page.session), page.now, user_id=person.id,
                                  provider_id=invitee.provider_id, acr=invitee.acr,
                                  auth_time=invitee.auth_time)
        page.replace_session(cookie, fresh)
        page.actor = page.portal.load_actor(page.db, person.id)
        record(page.db, page.requester(), page.now, event_type="auth.login",
               action="execute", outcome="allowed", object_type="person", object_id=person.id)
    return page.redirect(f"{REDEEM_PATH}/done")


@endpoint()
def invitation_redeemed(page: Page) -> Response:
    return page.render("invitations/done.html")


routes = [
    Route("/invitations", invitations_overview),
    Route("/invitations/children/{child_id}", invitation_child),
    Route("/invitations/children/{child_id}", send_invitation, methods=["POST"]),
    Route("/invitations/children/{child_id}/unbind", unbind_family_login, methods=["POST"]),
    Route("/invitations/children/{child_id}/{invitation_id}/resend", resend_invitation,
          methods=["POST"]),
    Route("/invitations/children/{child_id}/{invitation_id}/revoke", revoke_invitation,
          methods=["POST"]),
    Route(REDEEM_PATH, invitation_code_form),
    Route(REDEEM_PATH, redeem_invitation, methods=["POST"]),
    Route(f"{REDEEM_PATH}/done", invitation_redeemed),
    Route(REDEEM_PATH + "/{code}", invitation_link),
]
