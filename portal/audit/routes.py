"""The access log's pages: the DPO's search and exports, own history, the family's view."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.audit import family, views
from portal.audit.chain import format_timestamp
from portal.audit.export import to_csv, to_fhir_bundle
from portal.db import new_id
from portal.errors import InvalidInput
from portal.web.endpoint import Page, endpoint


def _params(page: Page) -> dict[str, str]:
    return dict(page.request.query_params)


def _step_up(page: Page, required: str) -> Response:
    return page.render("audit/step_up.html", status=403, required=required)


@endpoint()
def dpo_search(page: Page) -> Response:
    settings = page.portal.settings
    try:
        result = views.search(page.db, page.portal.vault, page.requester(), page.user,
                              page.now, page.session.acr,
                              settings.effective_audit_dpo_acr, _params(page),
                              settings.audit_checkpoint_url, settings.audit_witness_vkey)
    except views.StepUpRequired as step_up:
        return _step_up(page, step_up.required)
    except InvalidInput as invalid:
        return page.render("audit/search.html", status=400, result=None,
                           errors=invalid.errors, values=_params(page))
    return page.render("audit/search.html", result=result, errors={}, values=_params(page))


def _export(page: Page, kind: str) -> Response:
    settings = page.portal.settings
    try:
        records = views.export(page.db, page.portal.vault, page.requester(), page.user,
                               page.now, page.session.acr,
                               settings.effective_audit_dpo_acr, _params(page), kind)
    except views.StepUpRequired as step_up:
        return _step_up(page, step_up.required)
    except InvalidInput as invalid:
        return page.render("audit/search.html", status=400, result=None,
                           errors=invalid.errors, values=_params(page))
    if kind == "csv":
        return Response(to_csv(records), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="access-log.csv"'})
    body = to_fhir_bundle(records, new_id(), format_timestamp(page.now))
    return Response(body, media_type="application/fhir+json",
                    headers={"Content-Disposition": 'attachment; filename="access-log.json"'})


@endpoint()
def dpo_export_csv(page: Page) -> Response:
    return _export(page, "csv")


@endpoint()
def dpo_export_fhir(page: Page) -> Response:
    return _export(page, "fhir")


@endpoint()
def own_access(page: Page) -> Response:
    try:
        rows = views.own_history(page.db, page.requester(), page.user, page.now, _params(page))
    except InvalidInput as invalid:
        return page.render("audit/mine.html", status=400, rows=[], errors=invalid.errors,
                           values=_params(page))
    return page.render("audit/mine.html", rows=rows, errors={}, values=_params(page))


@endpoint()
def family_children(page: Page) -> Response:
    children = family.my_children(page.db, page.portal.vault, page.requester(), page.user,
                                  page.now)
    return page.render("audit/children.html", children=children)


@endpoint()
def child_access(page: Page, child_id: str) -> Response:
    names_for = frozenset(page.portal.settings.audit_names_for_family)
    try:
        history = family.child_history(page.db, page.portal.vault, page.requester(), page.user,
                                       page.now, child_id, _params(page), names_for)
    except InvalidInput as invalid:
        return page.render("audit/child.html", status=400, history=None,
                           errors=invalid.errors, values=_params(page))
    return page.render("audit/child.html", history=history, errors={}, values=_params(page))


routes = [
    Route("/audit", dpo_search),
    Route("/audit/export.csv", dpo_export_csv),
    Route("/audit/export.json", dpo_export_fhir),
    Route("/my-access", own_access),
    Route("/child-access", family_children),
    Route("/child-access/{child_id}", child_access),
]
