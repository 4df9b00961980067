"""The dev mail catcher's page: what the portal sent, as the recipient got it."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.web.endpoint import Page, endpoint


@endpoint(login=False)
def dev_mail(page: Page) -> Response:
    catcher = page.portal.mail_catcher
    messages = catcher.snapshot() if catcher is not None else []
    return page.render("mail/dev_outbox.html", messages=messages)


# Mounted only when the in-process catcher runs (dev mode without PORTAL_SMTP_HOST).
dev_routes = [Route("/dev/mail", dev_mail)]
