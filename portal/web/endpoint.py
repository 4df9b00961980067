"""The request boundary: session, CSRF, login, one unit of work, fail closed.

Every portal page is a plain function ``handler(page, **path_params)`` wrapped
by ``@endpoint(...)``, which declares up front whether a login is needed.
The wrapper:

1. refuses a state-changing request that is not same-origin or lacks the
   session's CSRF token (a header for htmx, a hidden field for forms);
2. opens one database transaction, loads the server-side session (dropping an
   expired one), and the logged-in person;
3. runs the handler in a worker thread; the handler renders its page into
   memory, so nothing is sent before the transaction, with its access
   records, has committed;
4. on any database or key-provider failure answers 503 with nothing of the
   page in it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec
from urllib.parse import quote, urlsplit

import anyio
import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from auth.sessions import SessionData, csrf_token, csrf_valid, is_live, new_session, session_key
from crypto import KeyUnavailable
from portal import metrics
from portal.audit.service import Requester
from portal.db import unit_of_work
from portal.errors import AccessDenied
from portal.notifications import service as notifications
from portal.people.models import Membership, Person, PersonKind
from portal.people.names import name_of
from portal.policy import Action, Actor, decide
from portal.register.service import keeps_a_register
from portal.vault.service import Vault
from portal.web import i18n
from portal.web.session_store import SqlSessionStore
from portal.web.uploads import BodyTooLarge, FilePart, RequestBody, UploadError, read_upload

if TYPE_CHECKING:
    from portal.app import Portal

log = logging.getLogger("portal.web")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Room for the form fields that accompany an uploaded file (they are capped
# far below this by portal.web.uploads).
UPLOAD_FORM_ALLOWANCE = 256 * 1024
# Touching the session row on every request would turn every read into a
# write; a minute of slack on a 15-minute idle timeout is harmless. A shorter
# idle timeout shrinks the interval to a tenth of it, so steady activity always
# refreshes the session before it times out.
TOUCH_INTERVAL_SECONDS = 60
TOUCH_FRACTION_OF_IDLE = 10
P = ParamSpec("P")
NAV = (("/cases", "My cases", Action.CASE_LIST),
       ("/admin", "Administration", Action.ORGANISATION_MANAGE),
       ("/register", "Pupil register", Action.REGISTER_VIEW),
       ("/invitations", "Family invitations", Action.INVITATION_LIST),
       ("/audit", "Access log", Action.AUDIT_SEARCH),
       ("/dpo/erasures", "Erasures in backups", Action.DPO_REVIEW),
       ("/dpo/requests", "Requests of data subjects", Action.DPO_REVIEW),
       ("/child-access", "Who looked at my child's data", Action.AUDIT_FAMILY_LIST),
       ("/family/requests", "Your requests", Action.FAMILY_LIST),
       ("/my-access", "My access history", Action.AUDIT_OWN),
       ("/dpo/processing-register", "Register of processing", Action.DPO_REVIEW),
       ("/dpo/breaches", "Data breaches", Action.DPO_REVIEW),
       ("/breaches/new", "Report a data breach", Action.BREACH_REPORT),
       ("/search", "Search", Action.CASE_LIST))


class Refused(Exception):
    """End the request with an error page; the transaction still commits, so
    the access record of a denied attempt is kept."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status



@dataclass
class Page:
    """What a handler gets: the request, its transaction, and who is asking."""

    request: Request
    portal: Portal
    db: Session
    session: SessionData
    actor: Actor | None
    now: datetime
    form: Mapping[str, str] = field(default_factory=dict)
    # Every submitted (name, value), for fields that repeat (checkbox groups).
    form_items: list[tuple[str, str]] = field(default_factory=list)
    # Upload endpoints: the file, still unread (its bytes stream on demand).
    upload: FilePart | None = None
    new_cookie: str | None = None
    ended: bool = False
    session_changed: bool = False
    # The browser brought a session that timed out: the login page says so.
    expired: bool = False

    @property
    def user(self) -> Actor:
        if self.actor is None:
            raise Refused(401)
        return self.actor

    @property
    def htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    def requester(self) -> Requester:
        actor = self.actor
        return Requester(
            user_id=actor.person_id if actor else None,
            # A citizen's name is sealed at rest; the log names them by id only.
            user_name=actor.name if actor and actor.kind is PersonKind.PROFESSIONAL else None,
            user_role=",".join(sorted(r.value for r in actor.roles)) if actor else None,
            organisation_id=min(actor.organisation_ids) if actor and actor.organisation_ids
            else None,
            session_ref=self.session.key[:16],
            client_address=self.request.client.host if self.request.client else None,
        )

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.render_text(template, **context), status_code=status)

    def render_text(self, template: str, **context: Any) -> str:
        base = {
            "actor": self.actor,
            "csrf_token": csrf_token(self.session),
            "request_path": self.request.url.path,
            "dev_mode": self.portal.settings.mode == "dev",
            "nav_links": self.nav_links(),
            # The warning before the idle timeout (static/portal.js) needs its length.
            "idle_seconds": int(self.portal.settings.sessions.idle_timeout.total_seconds()),
            # The header's unread count, queried only when a page with a person renders it.
            "unread_notifications": partial(notifications.unread_count, self.db,
                                            self.actor.person_id) if self.actor else None,
        }
        return self.portal.templates.get_template(template).render({**base, **context})

    def nav_links(self) -> list[tuple[str, str]]:
        """Menu entries the policy allows this actor (labels are message ids)."""
        if self.actor is None:
            return []
        actor = self.actor
        return [(href, label) for href, label, action in NAV
                if decide(actor, action).allowed
                and (action is not Action.REGISTER_VIEW or keeps_a_register(self.db, actor))]

    def commit(self) -> None:
        """Commit the request's work so far and release every lock it holds.

        For upload handlers only: the decision and its access record must be
        durable before the file streams in, and a slow sender must not hold
        the database (the audit chain's head) meanwhile. The rest of the
        request runs in a new transaction that the boundary commits as usual.
        """
        self.db.commit()

    def redirect(self, url: str) -> Response:
        if self.htmx:
            return Response(status_code=204, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)

    def replace_session(self, cookie: str, session: SessionData) -> None:
        """Swap in a new session (login): the old id stops working at once."""
        SqlSessionStore(self.db).delete(self.session.key)
        self.session = session
        self.new_cookie = cookie

    def end_session(self) -> None:
        SqlSessionStore(self.db).delete(self.session.key)
        self.ended = True

    def update_session(self, **changes: Any) -> None:
        self.session = replace(self.session, **changes)
        self.session_changed = True


Handler = Callable[Concatenate[Page, P], Response]


def endpoint(*, login: bool = True, upload: bool = False, csrf: bool = True,
             outbound: bool = False) -> Callable[[Handler[P]], Callable[[Request], Any]]:
    """Wrap a page handler; ``login`` says whether anonymous visitors are sent to log in.

    ``upload`` is for handlers that receive one file as ``multipart/form-data``
    in constant memory: the body is not parsed up front but streamed into the
    handler's worker thread. Only the fields before the file are read before
    the handler runs, so the same-origin check (before any byte is read), the
    CSRF token (header, or a field that precedes the file) and the login are
    checked exactly as for other forms before a byte of the file is read. The
    body limit is the settings' upload limit plus room for the fields; a
    larger declared Content-Length is refused before anything is read. The
    handler may end its first transaction early with ``Page.commit``.
    ``csrf=False`` is for logout only: a page left open past the session's
    expiry must still be able to log out (the same-origin check still runs).

    Handlers run in worker threads, at most ``PORTAL_PAGE_THREADS`` at once
    (``_in_page_thread``). ``outbound`` is for handlers that may wait on another
    server (the identity provider's token endpoint): they, like uploads, run
    outside that limit, so a slow provider cannot hold up everybody's pages.
    """

    def wrap(handler: Handler[P]) -> Callable[[Request], Any]:
        async def asgi_endpoint(request: Request) -> Response:
            portal: Portal = request.app.state.portal
            items: list[tuple[str, str]] = []
            if request.method not in SAFE_METHODS:
                if not _same_origin(request, portal.settings.public_url):
                    return portal.error_response(request, 403)
                if upload:
                    return await _run_upload(portal, handler, request, login)
                async with request.form(max_files=0, max_fields=200) as data:
                    items = [(k, v) for k, v in data.multi_items()
                             if not isinstance(v, UploadFile)]
            run = partial(_run, portal, handler, request, items, login, None, csrf)
            if outbound:
                return await run_in_threadpool(run)
            return await _in_page_thread(portal, run)

        asgi_endpoint.__name__ = handler.__name__
        asgi_endpoint.__doc__ = handler.__doc__
        asgi_endpoint.login_required = login  # type: ignore[attr-defined]
        return asgi_endpoint

    return wrap


async def _in_page_thread(portal: Portal, run: Callable[[], Response]) -> Response:
    """``run()`` in a worker thread, at most ``page_threads`` of them at once. Python
    runs one thread at a time: beyond a few more than the cores, more threads only
    queue for the interpreter, and every database round trip of a request holding
    the audit chain head then waits behind the others' rendering (8 clients on
    PostgreSQL: 35 req/s with 40 threads, 43 req/s with 5; bench_audit_logging)."""
    limiter = portal.page_limiter
    if limiter is None:  # made in the event loop it belongs to, on the first request
        limiter = portal.page_limiter = anyio.CapacityLimiter(portal.settings.page_threads)
    return await anyio.to_thread.run_sync(run, limiter=limiter)


async def _run_upload(portal: Portal, handler: Handler[Any], request: Request,
                      login: bool) -> Response:
    limit = portal.settings.max_upload_bytes + UPLOAD_FORM_ALLOWANCE
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return portal.error_response(request, 413)
    body = RequestBody(request, limit, portal.settings.upload_stall_seconds)
    return await run_in_threadpool(_run, portal, handler, request, [], login, body)


def _run(portal: Portal, handler: Handler[Any], request: Request,
         form: list[tuple[str, str]], login: bool, body: RequestBody | None = None,
         csrf: bool = True) -> Response:
    settings = portal.settings
    now = portal.clock()
    page: Page | None = None
    upload: FilePart | None = None
    if body is not None:
        # The fields before the file (the CSRF token) arrive before any
        # transaction opens: a client trickling them must not hold a database
        # lock while the login and the token are still unchecked.
        try:
            fields, upload = read_upload(body, request.headers.get("content-type", ""))
        except UploadError as failed:
            return portal.error_response(request, 413 if isinstance(failed, BodyTooLarge)
                                         else 400)
        form = list(fields.items())
    try:
        with unit_of_work(portal.sessions) as db:
            store = SqlSessionStore(db)
            page = _open_page(portal, request, db, store, form, now)
            page.upload = upload
            i18n.set_language(i18n.negotiate(page.session.language or request.cookies.get("lang"),
                                             request.headers.get("accept-language"),
                                             settings.default_language))
            response = _dispatch(page, handler, request, login, csrf)
            if not page.ended:
                _touch(store, page, now)
    except (SQLAlchemyError, KeyUnavailable, OSError) as exc:
        # Fail closed: whatever the handler rendered is discarded.
        metrics.failed_closed(exc)
        log.error("request failed closed: %s %s: %s", request.method, request.url.path,
                  type(exc).__name__)
        return portal.error_response(request, 503)
    if request.method not in SAFE_METHODS:
        # Whatever this request queued in the outbox is committed now.
        portal.mail.poke()
    if page.new_cookie:
        _set_cookie(response, portal, page.new_cookie)
    if page.ended:
        response.delete_cookie(settings.cookie_name, path="/", secure=settings.secure_cookies,
                               httponly=True, samesite="lax")
    return response


def _open_page(portal: Portal, request: Request, db: Session, store: SqlSessionStore,
               form: list[tuple[str, str]], now: datetime) -> Page:
    secret = portal.settings.session_secret
    cookie = request.cookies.get(portal.settings.cookie_name)
    session = store.load(session_key(secret, cookie)) if cookie else None
    expired = False
    if session is not None and not is_live(session, now, portal.settings.sessions):
        store.delete(session.key)
        expired = session.user_id is not None
        session = None
    new_cookie = None
    if session is None:
        new_cookie, session = new_session(secret, now)
    actor = _load_actor(db, session.user_id, portal.vault) if session.user_id else None
    return Page(request=request, portal=portal, db=db, session=session, actor=actor, now=now,
                form=dict(form), form_items=form, new_cookie=new_cookie, expired=expired)


def _dispatch(page: Page, handler: Handler[Any], request: Request, login: bool,
              csrf: bool = True) -> Response:
    # Login first: after expiry the new anonymous session's CSRF token cannot
    # match, and a 403 would leave an htmx user stuck on a dead page.
    if login and page.actor is None:
        return _to_login(page, request)
    if csrf and request.method not in SAFE_METHODS:
        presented = request.headers.get("x-csrf-token") or page.form.get("csrf_token")
        if not csrf_valid(page.session, presented):
            return page.render("errors/error.html", status=403, status_code=403,
                               csrf_failed=True)
    try:
        return handler(page, **request.path_params)
    except AccessDenied as denied:
        metrics.policy_denied(denied.decision)
        status = 404 if denied.decision.hide else 403
        # A visible refusal may say why when the reason is about the case, not
        # the person: an erased case's pages have nothing left to show.
        erased = getattr(denied.decision, "reason", None) == "case_erased"
        return page.render("errors/error.html", status=status, status_code=status,
                           csrf_failed=False, case_erased=erased and status == 403)
    except Refused as refused:
        if refused.status == 401:
            return RedirectResponse("/login", status_code=303)
        return page.render("errors/error.html", status=refused.status,
                           status_code=refused.status, csrf_failed=False)


def local_path(value: str | None) -> str | None:
    """``value`` if it is a bare path on this portal, else None: never an open redirect.

    Refused: anything not starting with one "/" ("//host" is another host), a
    scheme or host, a backslash (browsers read "/\\host" as "//host"), and
    control characters or whitespace (browsers drop tabs and newlines, so a
    tab between two slashes would make "//host").
    """
    if not value or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F
                              for ch in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def _to_login(page: Page, request: Request) -> Response:
    """Send an anonymous visitor to log in, and back to the page they were on.

    A form posted after the session expired names its page in a hidden
    ``return_to`` (a local path only); what it posted is not replayed.
    """
    back = request.url.path if request.method in SAFE_METHODS \
        else local_path(page.form.get("return_to")) or "/"
    expired = "&expired=1" if page.expired else ""
    if page.htmx:
        current = urlsplit(request.headers.get("hx-current-url", ""))
        if current.netloc == request.url.netloc:
            back = current.path
        target = "/login?next=" + quote(back, safe="/") + expired
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse("/login?next=" + quote(back, safe="/") + expired, status_code=303)


def touch_interval(idle_timeout: timedelta) -> timedelta:
    """How old ``last_seen_at`` may grow before a request writes it again."""
    return min(timedelta(seconds=TOUCH_INTERVAL_SECONDS), idle_timeout / TOUCH_FRACTION_OF_IDLE)


def _touch(store: SqlSessionStore, page: Page, now: datetime) -> None:
    interval = touch_interval(page.portal.settings.sessions.idle_timeout)
    stale = now - page.session.last_seen_at >= interval
    if page.new_cookie or stale or page.session_changed:
        store.save(replace(page.session, last_seen_at=now))


def _load_actor(db: Session, person_id: str, vault: Vault | None = None) -> Actor | None:
    """The person as the policy sees them; without ``vault`` a citizen's sealed name is blank."""
    # One query: the person, their memberships and the header's unread count.
    rows = db.execute(
        select(Person, Membership.organisation_id, Membership.role,
               notifications.unread_of(Person.id))
        .outerjoin(Membership, Membership.person_id == Person.id)
        .where(Person.id == person_id)
    ).all()
    if not rows:
        return None
    person, unread = rows[0][0], rows[0][3]
    if not person.active:
        return None
    notifications.remember_unread(db, person.id, unread or 0)
    name = name_of(db, vault, person) if vault is not None else person.display_name
    return Actor(person_id=person.id, kind=person.kind, name=name,
                 memberships=frozenset((org, role) for _, org, role, _ in rows
                                       if org is not None))


def _set_cookie(response: Response, portal: Portal, value: str) -> None:
    settings = portal.settings
    response.set_cookie(settings.cookie_name, value, path="/", secure=settings.secure_cookies,
                        httponly=True, samesite="lax")


def _same_origin(request: Request, public_url: str) -> bool:
    """The browser says the request comes from our own pages."""
    origin = request.headers.get("origin")
    # With Referrer-Policy: no-referrer, browsers send "Origin: null" on plain
    # form posts; then the unforgeable Sec-Fetch-Site must speak for them.
    if origin is not None and origin != "null":
        return origin == _origin_of(public_url)
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    referer = request.headers.get("referer", "")
    return referer.startswith(public_url + "/")


def _origin_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
