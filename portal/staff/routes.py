"""The care coordinator's page for appointing a case's chair: identify, call one service, render."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.errors import InvalidInput
from portal.staff import chair
from portal.web.endpoint import Page, endpoint


def _chair_page(page: Page, case_id: str, errors: dict[str, str]) -> Response:
    view = chair.chair_page(page.db, page.requester(), page.user, page.now, case_id)
    return page.render("staff/chair.html", status=400 if errors else 200, view=view,
                       errors=errors)


@endpoint()
def chair_form(page: Page, case_id: str) -> Response:
    return _chair_page(page, case_id, {})


@endpoint()
def appoint_chair(page: Page, case_id: str) -> Response:
    try:
        chair.appoint_chair(page.db, page.requester(), page.user, page.now, case_id,
                            page.form.get("chair", ""))
    except InvalidInput as invalid:
        return _chair_page(page, case_id, invalid.errors)
    return page.redirect(f"/cases/{case_id}/chair?done=1")


routes = [
    Route("/cases/{case_id}/chair", chair_form),
    Route("/cases/{case_id}/chair", appoint_chair, methods=["POST"]),
]
