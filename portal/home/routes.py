"""The start page ("/"): every logged-in person lands here, never on a refusal."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.home import service
from portal.notifications import service as notifications
from portal.people.models import PersonKind
from portal.web.endpoint import Page, endpoint


@endpoint()
def home(page: Page) -> Response:
    if page.user.kind is PersonKind.CITIZEN:
        return page.redirect("/family")
    settings = page.portal.settings
    start = service.start_page(page.db, page.portal.vault, page.requester(), page.user,
                               page.now, witness_url=settings.audit_checkpoint_url,
                               witness_vkey=settings.audit_witness_vkey)
    return page.render("home/index.html", start=start,
                       latest=notifications.latest(page.db, page.user.person_id))


@endpoint()
def session_alive(page: Page) -> Response:
    """The "stay logged in" button: a request of the session is activity; nothing else."""
    page.update_session()  # saved with a fresh last_seen_at at the boundary
    return Response(status_code=204)


routes = [Route("/", home), Route("/session/alive", session_alive)]
