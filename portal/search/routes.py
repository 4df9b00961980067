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
    # A date that names no day is a refused field: said in words, next to the field.
    errors = {"q": results.error} if results is not None and results.error else {}
    return page.render("search/index.html", status=400 if errors else 200, results=results,
                       q=text, errors=errors)


routes = [Route("/search", search)]
