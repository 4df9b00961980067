"""The FG's pages of their own: the register of processing (page, JSON, PDF)."""

from __future__ import annotations

import json

from starlette.responses import Response
from starlette.routing import Route

from portal.dpo import privacy, register, register_pdf
from portal.errors import InvalidInput
from portal.web.endpoint import Page, endpoint

DOWNLOAD = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _page(page: Page, organisation_id: str, errors: dict[str, str], status: int = 200,
          values: dict[str, str] | None = None) -> Response:
    view = register.register_page(page.db, page.portal.settings, page.requester(), page.user,
                                  page.now, organisation_id)
    entered = dict(view.current.content.get("entered", {}))
    return page.render("dpo/processing_register.html", status=status, view=view,
                       content=view.current.content, errors=errors,
                       values=values if values is not None else entered)


@endpoint()
def processing_register(page: Page, organisation_id: str) -> Response:
    return _page(page, organisation_id, {})


@endpoint()
def update_processing_register(page: Page, organisation_id: str) -> Response:
    form = {name: page.form.get(name, "") for name in register.ENTERED_FIELDS}
    try:
        register.update_entered(page.db, page.portal.settings, page.requester(), page.user,
                                page.now, organisation_id, form)
    except InvalidInput as invalid:
        return _page(page, organisation_id, invalid.errors, status=400, values=form)
    return page.redirect(f"/organisations/{organisation_id}/processing-register")


@endpoint()
def processing_registers(page: Page) -> Response:
    organisations = register.register_list(page.db, page.requester(), page.user, page.now)
    if len(organisations) == 1:
        return page.redirect(f"/organisations/{organisations[0][0]}/processing-register")
    return page.render("dpo/processing_registers.html", organisations=organisations)


def _export(page: Page, organisation_id: str, kind: str) -> Response:
    try:
        row = register.version_for_export(page.db, page.portal.settings, page.requester(),
                                          page.user, page.now, organisation_id, kind,
                                          page.request.query_params.get("version", ""))
    except InvalidInput:
        return page.render("errors/error.html", status=404, status_code=404,
                           csrf_failed=False)
    name = f"verwerkingsregister-v{row.version}.{kind}"
    headers = {**DOWNLOAD, "Content-Disposition": f'attachment; filename="{name}"'}
    if kind == "pdf":
        return Response(register_pdf.render(row), media_type="application/pdf", headers=headers)
    body = {"version": row.version, "recorded_at": row.created_at.isoformat(), **row.content}
    return Response(json.dumps(body, ensure_ascii=False, indent=2),
                    media_type="application/json", headers=headers)


@endpoint()
def processing_register_json(page: Page, organisation_id: str) -> Response:
    return _export(page, organisation_id, "json")


@endpoint()
def processing_register_pdf(page: Page, organisation_id: str) -> Response:
    return _export(page, organisation_id, "pdf")


routes = [
    *privacy.routes,
    Route("/dpo/processing-register", processing_registers),
    Route("/organisations/{organisation_id}/processing-register", processing_register),
    Route("/organisations/{organisation_id}/processing-register", update_processing_register,
          methods=["POST"]),
    Route("/organisations/{organisation_id}/processing-register.json",
          processing_register_json),
    Route("/organisations/{organisation_id}/processing-register.pdf",
          processing_register_pdf),
]
