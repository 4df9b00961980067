"""``/search``: the form and its results in one page (GET, so a search can be linked)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.search import service
from portal.web.endpoint import Page, endpoint


@endpoint()
def search(page: Page) -> Response:
    text = page.request.query_params.get("q", "")
    results = service.search_cases(page.db, page.portal.vault, page.requester(), page.user,
                                   page.now, text)
    return page.render("search/index.html", results=results, q=text)


routes = [Route("/search", search)]
