"""Scheduling meetings and keeping action items: thin routes over the service."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.consent.anonymous import IdentifiersFound
from portal.consent.identifiers import Finding
from portal.errors import InvalidInput
from portal.meetings import action_items, case_agenda, categories, moving, service
from portal.meetings.binding import ItemDamaged
from portal.web.endpoint import Page, Refused, endpoint


def _categories(page: Page) -> list[str]:
    return [value for name, value in page.form_items if name == "category"]


def _confirmed(page: Page) -> bool:
    return page.form.get("confirm_identifiers") == "on"


def _confirmed_unreadable(page: Page) -> bool:
    return page.form.get("confirm_unreadable") == "on"


def _findings(invalid: InvalidInput | None) -> dict[str, list[Finding]]:
    """What the identifier check found (anonymous cases), for the confirm box."""
    return invalid.findings if isinstance(invalid, IdentifiersFound) else {}


def _form(page: Page, case_id: str, errors: dict[str, str], values: dict[str, str],
          findings: dict[str, list[Finding]] | None = None) -> Response:
    agenda = case_agenda.schedule_form(page.db, page.requester(), page.user, page.now, case_id)
    return page.render("meetings/new.html", status=400 if errors else 200, case_id=case_id,
                       participants=agenda.participants, durations=service.DURATIONS,
                       categories=service.CATEGORIES, errors=errors, values=values,
                       chosen=_categories(page), findings=findings or {},
                       unreadable=errors.get("category") == service.UNREADABLE_WARNING)


@endpoint()
def new_meeting(page: Page, case_id: str) -> Response:
    return _form(page, case_id, {}, {"duration": "60"})


@endpoint()
def schedule_meeting(page: Page, case_id: str) -> Response:
    invitees = [value for name, value in page.form_items if name == "invitee"]
    try:
        new = service.parse_new_meeting(page.form, invitees, page.now, _categories(page))
        meeting_id = service.schedule_meeting(page.db, page.portal.vault, page.requester(),
                                              page.user, page.now, case_id, new,
                                              page.portal.settings.public_url,
                                              confirm_identifiers=_confirmed(page),
                                              confirm_unreadable=_confirmed_unreadable(page))
    except InvalidInput as invalid:
        return _form(page, case_id, invalid.errors, dict(page.form), _findings(invalid))
    return page.redirect(f"/meetings/{meeting_id}")


def _show(page: Page, meeting_id: str, errors: dict[str, str],
          values: dict[str, str]) -> Response:
    meeting = service.view_meeting(page.db, page.portal.vault, page.requester(), page.user,
                                   page.now, meeting_id)
    return page.render("meetings/show.html", status=400 if errors else 200, meeting=meeting,
                       durations=service.DURATIONS, errors=errors, values=values,
                       begun=meeting.starts_at <= page.now,
                       done=page.request.query_params.get("done", ""))


@endpoint()
def show_meeting(page: Page, meeting_id: str) -> Response:
    return _show(page, meeting_id, {}, {})


@endpoint()
def move_meeting(page: Page, meeting_id: str) -> Response:
    try:
        moving.move_meeting(page.db, page.requester(), page.user, page.now, meeting_id,
                            page.form, page.portal.settings.public_url)
    except InvalidInput as invalid:
        return _show(page, meeting_id, invalid.errors, dict(page.form))
    return page.redirect(f"/meetings/{meeting_id}?done=moved")


@endpoint()
def cancel_meeting(page: Page, meeting_id: str) -> Response:
    case_id = service.cancel_meeting(page.db, page.requester(), page.user, page.now,
                                     meeting_id, page.portal.settings.public_url)
    return page.redirect(f"/cases/{case_id}/meetings")


@endpoint()
def add_action_item(page: Page, case_id: str) -> Response:
    try:
        action_items.add_action_item(page.db, page.portal.vault, page.requester(), page.user,
                                     page.now, case_id, text=page.form.get("text", ""),
                                     owner_id=page.form.get("owner_id", ""),
                                     due_on=page.form.get("due_on", ""),
                                     categories=_categories(page),
                                     confirm_identifiers=_confirmed(page),
                                     confirm_unreadable=_confirmed_unreadable(page))
    except InvalidInput as invalid:
        return _items_fragment(page, case_id, invalid.errors, _findings(invalid))
    return _items_fragment(page, case_id, {})


@endpoint()
def set_action_item_status(page: Page, item_id: str) -> Response:
    try:
        item = action_items.set_action_item_status(page.db, page.requester(), page.user,
                                                   page.now, item_id,
                                                   page.form.get("done") == "1",
                                                   page.portal.vault)
    except ItemDamaged:
        raise Refused(500) from None  # the failed record is kept (the request commits)
    if page.form.get("from") == "start":
        return page.redirect("/cases")
    return _items_fragment(page, item.case_id, {})


def _items_fragment(page: Page, case_id: str, errors: dict[str, str],
                    findings: dict[str, list[Finding]] | None = None) -> Response:
    if not page.htmx and not errors:
        return page.redirect(f"/cases/{case_id}/actions")
    agenda = case_agenda.case_agenda(page.db, page.portal.vault, page.user, page.now, case_id,
                                     who=page.requester())
    template = "meetings/_action_items.html" if page.htmx else "meetings/action_items.html"
    return page.render(template, status=400 if errors else 200, case_id=case_id,
                       agenda=agenda, errors=errors, findings=findings or {},
                       values=dict(page.form) if errors else {},
                       chosen=_categories(page) if errors else [],
                       unreadable=errors.get("category") == service.UNREADABLE_WARNING)


@endpoint()
def category_form(page: Page, meeting_id: str) -> Response:
    meeting, case_id, current = categories.category_form(
        page.db, page.portal.vault, page.requester(), page.user, page.now, meeting_id)
    return _category_page(page, meeting, case_id, list(current), {})


@endpoint()
def change_categories(page: Page, meeting_id: str) -> Response:
    """The consequence first (nothing changed); with ``confirm=1`` the change itself."""
    chosen = _categories(page)
    try:
        categories.change_categories(page.db, page.portal.vault, page.requester(), page.user,
                                     page.now, meeting_id, chosen,
                                     confirmed=page.form.get("confirm") == "1")
    except categories.AgendaDamaged:
        raise Refused(500) from None  # the failed record is kept (the request commits)
    except categories.CategoryConfirmationNeeded as needed:
        if page.htmx:
            return page.render("meetings/_category_change.html", change=needed.change,
                               errors={})
        return _category_page(page, meeting_id, needed.change.case_id, chosen, {},
                              change=needed.change)
    except InvalidInput as invalid:
        case_id = page.form.get("case_id", "")
        if page.htmx:
            return page.render("meetings/_category_change.html", status=400, change=None,
                               errors=invalid.errors)
        return _category_page(page, meeting_id, case_id, chosen, invalid.errors)
    return page.redirect(f"/meetings/{meeting_id}")


def _category_page(page: Page, meeting_id: str, case_id: str, chosen: list[str],
                   errors: dict[str, str], change: categories.CategoryChange | None = None
                   ) -> Response:
    return page.render("meetings/categories.html", status=400 if errors else 200,
                       meeting_id=meeting_id, case_id=case_id, categories=service.CATEGORIES,
                       chosen=chosen, errors=errors, change=change)


routes = [
    Route("/cases/{case_id}/meetings/new", new_meeting),
    Route("/cases/{case_id}/meetings", schedule_meeting, methods=["POST"]),
    Route("/meetings/{meeting_id}", show_meeting),
    Route("/meetings/{meeting_id}/cancel", cancel_meeting, methods=["POST"]),
    Route("/meetings/{meeting_id}/move", move_meeting, methods=["POST"]),
    Route("/cases/{case_id}/action-items", add_action_item, methods=["POST"]),
    Route("/action-items/{item_id}/status", set_action_item_status, methods=["POST"]),
    Route("/meetings/{meeting_id}/categories", category_form),
    Route("/meetings/{meeting_id}/categories", change_categories, methods=["POST"]),
]
