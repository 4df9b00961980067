"""The case timeline page: the timeline and the case header, one template."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.cases import tabs
from portal.timeline import service
from portal.web.endpoint import Page, endpoint


@endpoint()
def case_timeline(page: Page, case_id: str) -> Response:
    timeline = service.case_timeline(page.db, page.portal.vault, page.requester(), page.user,
                                     page.now, case_id)
    # The case page's header and tabs (the case read on record, like each tab's).
    case = tabs.header(page.db, page.portal.vault, page.requester(), page.user, page.now,
                       case_id)
    return page.render("timeline/case.html", timeline=timeline, case=case, current="timeline")


routes = [
    Route("/cases/{case_id}/timeline", case_timeline),
]
