"""The DPO's page on erasures still recoverable from backups. Thin: identify, call, render."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.vault.backlog import erasure_backlog
from portal.web.endpoint import Page, endpoint


@endpoint()
def dpo_erasures(page: Page) -> Response:
    backlog = erasure_backlog(page.db, page.requester(), page.user, page.now,
                              page.portal.settings.erasure_epoch_days)
    return page.render("vault/dpo_erasures.html", backlog=backlog)


routes = [Route("/dpo/erasures", dpo_erasures)]
