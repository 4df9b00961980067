"""The inbox and the mail choice: a person's own notifications, nobody else's."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.errors import N_
from portal.notifications import service
from portal.notifications.models import MailChoice
from portal.web.endpoint import Page, Refused, endpoint


@endpoint()
def inbox(page: Page) -> Response:
    entries = service.inbox(page.db, page.user.person_id)
    return page.render("notifications/inbox.html", entries=entries)


@endpoint()
def mark_all_read(page: Page) -> Response:
    service.mark_all_read(page.db, page.user.person_id, page.now)
    return page.redirect("/inbox")


@endpoint()
def open_notification(page: Page, notification_id: str) -> Response:
    """Mark it read and follow its link; the page there decides what the reader sees."""
    link = service.open_notification(page.db, page.user.person_id, notification_id, page.now)
    if link is None:
        raise Refused(404)  # someone else's (or no) notification: its existence stays hidden
    return page.redirect(link)


@endpoint()
def notification_settings(page: Page) -> Response:
    return page.render("notifications/settings.html", choices=list(MailChoice),
                       chosen=service.mail_choice(page.db, page.user.person_id), saved=False)


@endpoint()
def save_notification_settings(page: Page) -> Response:
    chosen = service.choose_mail(page.db, page.user.person_id, page.form.get("mail", ""))
    if chosen is None:
        return page.render("notifications/settings.html", status=400,
                           choices=list(MailChoice),
                           chosen=service.mail_choice(page.db, page.user.person_id),
                           saved=False, errors={"mail": N_("Choose how you want to be mailed.")})
    return page.render("notifications/settings.html", choices=list(MailChoice), chosen=chosen,
                       saved=True)


routes = [
    Route("/inbox", inbox),
    Route("/inbox", mark_all_read, methods=["POST"]),
    Route("/inbox/{notification_id}", open_notification),
    Route("/settings/notifications", notification_settings),
    Route("/settings/notifications", save_notification_settings, methods=["POST"]),
]
