"""Reporting a data breach, and the FG's breach register. Thin: identify, call, render."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.audit.views import StepUpRequired
from portal.breaches import export, scope, service
from portal.errors import InvalidInput
from portal.web.endpoint import Page, endpoint


def _login(page: Page) -> service.FgLogin:
    return service.FgLogin(page.session.acr, page.portal.settings.effective_audit_dpo_acr)


def _step_up(page: Page, required: str) -> Response:
    return page.render("audit/step_up.html", status=403, required=required)


def _report_form(page: Page, errors: dict[str, str], status: int = 200) -> Response:
    return page.render("breaches/report.html", status=status, errors=errors,
                       values=dict(page.form),
                       organisations=service.reporter_organisations(page.db, page.user))


@endpoint()
def report_breach_form(page: Page) -> Response:
    service.gate_report(page.db, page.requester(), page.user, page.now)
    return _report_form(page, {})


@endpoint()
def report_breach(page: Page) -> Response:
    try:
        service.report(page.db, page.portal.vault, page.requester(), page.user, page.now,
                       page.form, page.portal.settings.public_url)
    except InvalidInput as invalid:
        return _report_form(page, invalid.errors, status=400)
    return page.render("breaches/reported.html")


@endpoint()
def dpo_breaches(page: Page) -> Response:
    try:
        found = service.register(page.db, page.requester(), page.user, page.now, _login(page))
    except StepUpRequired as step_up:
        return _step_up(page, step_up.required)
    return page.render("breaches/register.html", rows=found)


def _show(page: Page, breach_id: str, errors: dict[str, str], status: int = 200) -> Response:
    try:
        shown = service.show(page.db, page.portal.vault, page.requester(), page.user, page.now,
                             breach_id, _login(page))
    except StepUpRequired as step_up:
        return _step_up(page, step_up.required)
    return page.render("breaches/show.html", status=status, view=shown, errors=errors,
                       values=dict(page.form) if errors else {})


@endpoint()
def dpo_breach(page: Page, breach_id: str) -> Response:
    return _show(page, breach_id, {})


@endpoint()
def dpo_breach_assess(page: Page, breach_id: str) -> Response:
    try:
        service.assess(page.db, page.portal.vault, page.requester(), page.user, page.now,
                       breach_id, _login(page), page.form)
    except StepUpRequired as step_up:
        return _step_up(page, step_up.required)
    except InvalidInput as invalid:
        return _show(page, breach_id, invalid.errors, status=400)
    return page.redirect(f"/dpo/breaches/{breach_id}")


@endpoint()
def dpo_breach_decide(page: Page, breach_id: str) -> Response:
    try:
        service.record_decision(page.db, page.portal.vault, page.requester(), page.user,
                                page.now, breach_id, _login(page), page.form)
    except StepUpRequired as step_up:
        return _step_up(page, step_up.required)
    except InvalidInput as invalid:
        return _show(page, breach_id, invalid.errors, status=400)
    return page.redirect(f"/dpo/breaches/{breach_id}")


@endpoint()
def dpo_breach_scope(page: Page, breach_id: str) -> Response:
    try:
        scope.define_scope(page.db, page.requester(), page.user, page.now, breach_id,
                           _login(page), page.form, page.portal.settings.public_url)
    except StepUpRequired as step_up:
        return _step_up(page, step_up.required)
    except InvalidInput as invalid:
        return _show(page, breach_id, invalid.errors, status=400)
    return page.redirect(f"/dpo/breaches/{breach_id}#scope-heading")


def _file(page: Page, maker: str) -> Response:
    make = export.export_csv if maker == "csv" else export.export_pdf
    try:
        made = make(page.db, page.portal.vault, page.requester(), page.user, page.now,
                    _login(page))
    except StepUpRequired as step_up:
        return _step_up(page, step_up.required)
    return Response(made.content, media_type=made.media_type, headers={
        "Content-Disposition": f'attachment; filename="{made.filename}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@endpoint()
def dpo_breaches_csv(page: Page) -> Response:
    return _file(page, "csv")


@endpoint()
def dpo_breaches_pdf(page: Page) -> Response:
    return _file(page, "pdf")


routes = [
    Route("/breaches/new", report_breach_form),
    Route("/breaches", report_breach, methods=["POST"]),
    Route("/dpo/breaches", dpo_breaches),
    Route("/dpo/breaches/register.csv", dpo_breaches_csv),
    Route("/dpo/breaches/register.pdf", dpo_breaches_pdf),
    Route("/dpo/breaches/{breach_id}", dpo_breach),
    Route("/dpo/breaches/{breach_id}/assessment", dpo_breach_assess, methods=["POST"]),
    Route("/dpo/breaches/{breach_id}/decision", dpo_breach_decide, methods=["POST"]),
    Route("/dpo/breaches/{breach_id}/scope", dpo_breach_scope, methods=["POST"]),
]
