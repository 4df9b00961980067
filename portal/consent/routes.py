"""Consent pages for professionals, the safety exception, and the DPO's review.

Thin: identify, call one service function, render. The policy decides in the
services; templates only show what the services say is allowed.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.audit.views import StepUpRequired
from portal.cases import tabs
from portal.consent import breakglass, conversion, custody, grounds, service
from portal.consent.access import local_date
from portal.errors import InvalidInput
from portal.web.endpoint import Page, endpoint


def _page(page: Page, case_id: str, errors: dict[str, str], values: dict[str, str],
          status: int = 200) -> Response:
    view = service.case_page(page.db, page.portal.vault, page.requester(), page.user,
                             page.now, case_id)
    # The case page's header and tabs (the case read on record, like each tab's).
    case = tabs.header(page.db, page.portal.vault, page.requester(), page.user, page.now,
                       case_id)
    return page.render("consent/case.html", status=400 if errors else status, view=view,
                       case=case, current="consent",
                       errors=errors, values=values,
                       chosen=[v for k, v in page.form_items if k in ("category", "recipient")])


@endpoint()
def consent_page(page: Page, case_id: str) -> Response:
    return _page(page, case_id, {}, {})


@endpoint()
def record_consent(page: Page, case_id: str) -> Response:
    try:
        service.record_signed_consent(page.db, page.portal.vault, page.requester(), page.user,
                                      page.now, case_id,
                                      service.consent_form(page.form, page.form_items))
    except InvalidInput as invalid:
        return _page(page, case_id, invalid.errors, dict(page.form))
    return page.redirect(f"/cases/{case_id}/consent")


@endpoint()
def record_withdrawal(page: Page, case_id: str, consent_id: str) -> Response:
    try:
        service.record_withdrawal(page.db, page.portal.vault, page.requester(), page.user,
                                  page.now, case_id, consent_id)
    except InvalidInput as invalid:
        return _page(page, case_id, invalid.errors, {})
    return page.redirect(f"/cases/{case_id}/consent")


@endpoint()
def break_glass(page: Page, case_id: str) -> Response:
    try:
        breakglass.open_grant(page.db, page.portal.vault, page.requester(), page.user, page.now,
                              case_id, page.form.get("reason", ""),
                              page.portal.settings.public_url)
    except InvalidInput as invalid:
        return _page(page, case_id, invalid.errors, dict(page.form))
    return page.redirect(f"/cases/{case_id}")


def _conversion(page: Page, case_id: str, child_id: str | None, errors: dict[str, str]
                ) -> Response:
    view = conversion.conversion_page(page.db, page.portal.vault, page.requester(), page.user,
                                      page.now, case_id, child_id)
    chosen = [v for k, v in page.form_items if k in ("category", "recipient", "consenter")]
    return page.render("consent/convert.html", status=400 if errors else 200, view=view,
                       errors=errors, values=dict(page.form), chosen=chosen)


@endpoint()
def convert_form(page: Page, case_id: str) -> Response:
    return _conversion(page, case_id, page.request.query_params.get("child_id"), {})


@endpoint()
def convert_case(page: Page, case_id: str) -> Response:
    child_id = page.form.get("child_id", "")
    try:
        conversion.convert(page.db, page.portal.vault, page.requester(), page.user, page.now,
                           case_id, child_id,
                           [v for k, v in page.form_items if k == "consenter"],
                           service.consent_form(page.form, page.form_items))
    except InvalidInput as invalid:
        return _conversion(page, case_id, child_id, invalid.errors)
    return page.redirect(f"/cases/{case_id}")


@endpoint()
def dpo_break_glass(page: Page) -> Response:
    required = page.portal.settings.effective_audit_dpo_acr
    try:
        entries = breakglass.review_list(page.db, page.portal.vault, page.requester(),
                                         page.user, page.now, page.session.acr, required)
    except StepUpRequired as step_up:
        return page.render("audit/step_up.html", status=403, required=step_up.required)
    return page.render("consent/dpo_break_glass.html", entries=entries, now=page.now)


@endpoint()
def dpo_mark_reviewed(page: Page, grant_id: str) -> Response:
    breakglass.mark_reviewed(page.db, page.requester(), page.user, page.now, grant_id)
    return page.redirect("/dpo/break-glass")


def _grounds(page: Page, case_id: str, errors: dict[str, str], status: int = 200) -> Response:
    view = grounds.case_grounds(page.db, page.portal.vault, page.requester(), page.user,
                                page.now, case_id)
    chosen = [v for k, v in page.form_items if k in ("recipients", "categories")]
    values = dict(page.form) or {"basis": page.request.query_params.get("basis", "")}
    return page.render("consent/grounds.html", status=400 if errors else status, view=view,
                       errors=errors, values=values, chosen=chosen,
                       bases=grounds.INVOCABLE)


@endpoint()
def grounds_page(page: Page, case_id: str) -> Response:
    return _grounds(page, case_id, {})


def _scope(page: Page) -> tuple[grounds.GroundScope, str]:
    form = {**dict(page.form),
            "recipients": [v for k, v in page.form_items if k == "recipients"],
            "categories": [v for k, v in page.form_items if k == "categories"]}
    return grounds.parse_scope(form, local_date(page.now))


@endpoint()
def invoke_ground(page: Page, case_id: str) -> Response:
    try:
        scope, justification = _scope(page)
        grounds.invoke_ground(page.db, page.portal.vault, page.requester(), page.user, page.now,
                              case_id, scope, justification, page.portal.settings.public_url)
    except InvalidInput as invalid:
        return _grounds(page, case_id, invalid.errors)
    return page.redirect(f"/cases/{case_id}/grounds")


@endpoint()
def change_ground(page: Page, case_id: str, ground_id: str) -> Response:
    try:
        scope, reason = _scope(page)
        grounds.change_ground(page.db, page.portal.vault, page.requester(), page.user,
                              page.now, case_id, ground_id, scope, reason)
    except InvalidInput as invalid:
        return _grounds(page, case_id, {f"change-{ground_id}": next(iter(invalid.errors.values()))})
    return page.redirect(f"/cases/{case_id}/grounds")


@endpoint()
def end_ground(page: Page, case_id: str, ground_id: str) -> Response:
    try:
        grounds.end_ground(page.db, page.portal.vault, page.requester(), page.user, page.now,
                           case_id, ground_id, page.form.get("reason", ""))
    except InvalidInput as invalid:
        return _grounds(page, case_id, {f"end-{ground_id}": invalid.errors["reason"]})
    return page.redirect(f"/cases/{case_id}/grounds")


@endpoint()
def complete_ground_task(page: Page, case_id: str, task_id: str) -> Response:
    try:
        grounds.complete_task(page.db, page.portal.vault, page.requester(), page.user,
                              page.now, case_id, task_id, page.form.get("note", ""))
    except InvalidInput as invalid:
        return _grounds(page, case_id, {f"task-{task_id}": invalid.errors["note"]})
    return page.redirect(f"/cases/{case_id}/grounds")


@endpoint()
def dpo_grounds(page: Page) -> Response:
    entries = grounds.dpo_queue(page.db, page.requester(), page.user, page.now)
    return page.render("consent/dpo_grounds.html", entries=entries)


@endpoint()
def dpo_ground_reviewed(page: Page, ground_id: str) -> Response:
    grounds.mark_ground_reviewed(page.db, page.requester(), page.user, page.now, ground_id)
    return page.redirect("/dpo/grounds")


def _custody(page: Page, child_id: str, errors: dict[str, str]) -> Response:
    view = custody.custody_page(page.db, page.portal.vault, page.requester(), page.user,
                                page.now, child_id)
    return page.render("consent/custody.html", status=400 if errors else 200, view=view,
                       errors=errors, values=dict(page.form),
                       done=page.request.query_params.get("done") == "1")


@endpoint()
def custody_form(page: Page, child_id: str) -> Response:
    return _custody(page, child_id, {})


@endpoint()
def record_custody(page: Page, child_id: str) -> Response:
    try:
        custody.record_custody(page.db, page.portal.vault, page.requester(), page.user,
                               page.now, child_id, page.form)
    except InvalidInput as invalid:
        return _custody(page, child_id, invalid.errors)
    return page.redirect(f"/children/{child_id}/custody?done=1")


routes = [
    Route("/cases/{case_id}/consent", consent_page),
    Route("/cases/{case_id}/consent", record_consent, methods=["POST"]),
    Route("/cases/{case_id}/consent/{consent_id}/withdraw", record_withdrawal,
          methods=["POST"]),
    Route("/cases/{case_id}/break-glass", break_glass, methods=["POST"]),
    Route("/cases/{case_id}/convert", convert_form),
    Route("/cases/{case_id}/convert", convert_case, methods=["POST"]),
    Route("/children/{child_id}/custody", custody_form),
    Route("/children/{child_id}/custody", record_custody, methods=["POST"]),
    Route("/cases/{case_id}/grounds", grounds_page),
    Route("/cases/{case_id}/grounds", invoke_ground, methods=["POST"]),
    Route("/cases/{case_id}/grounds/{ground_id}/end", end_ground, methods=["POST"]),
    Route("/cases/{case_id}/grounds/{ground_id}/change", change_ground, methods=["POST"]),
    Route("/cases/{case_id}/grounds/tasks/{task_id}/done", complete_ground_task,
          methods=["POST"]),
    Route("/dpo/grounds", dpo_grounds),
    Route("/dpo/grounds/{ground_id}/reviewed", dpo_ground_reviewed, methods=["POST"]),
    Route("/dpo/break-glass", dpo_break_glass),
    Route("/dpo/break-glass/{grant_id}/reviewed", dpo_mark_reviewed, methods=["POST"]),
]
