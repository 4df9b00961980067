"""Retention pages: the administrator confirms the board's periods, the FG sees what expires."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.errors import InvalidInput
from portal.retention import service
from portal.retention.models import CountedFrom, HoldReason, LiftReason
from portal.retention.rules import MAX_MONTHS
from portal.web.endpoint import Page, endpoint


def _policies(page: Page, errors: dict[str, str], values: dict[str, str]) -> Response:
    rows = service.policies(page.db, page.requester(), page.user, page.now)
    return page.render("retention/policies.html", status=400 if errors else 200, rows=rows,
                       events=list(CountedFrom), max_months=MAX_MONTHS, errors=errors,
                       values=values, done=page.request.query_params.get("done", ""))


@endpoint()
def retention_policies(page: Page) -> Response:
    return _policies(page, {}, {})


@endpoint()
def confirm_retention_policy(page: Page) -> Response:
    try:
        service.confirm_policy(page.db, page.requester(), page.user, page.now,
                               organisation_id=page.form.get("organisation_id", ""),
                               months=page.form.get("months", ""),
                               counted_from=page.form.get("counted_from", ""),
                               confirmed=page.form.get("confirm") == "on")
    except InvalidInput as invalid:
        return _policies(page, invalid.errors, dict(page.form))
    return page.redirect("/admin/retention?done=1")


def _overview(page: Page, errors: dict[str, str]) -> Response:
    found = service.overview(page.db, page.requester(), page.user, page.now)
    return page.render("retention/overview.html", status=400 if errors else 200,
                       overview=found, reasons=list(HoldReason), lift_reasons=list(LiftReason),
                       errors=errors, done=page.request.query_params.get("done", ""))


@endpoint()
def retention_overview(page: Page) -> Response:
    return _overview(page, {})


@endpoint()
def place_legal_hold(page: Page) -> Response:
    try:
        service.place_hold(page.db, page.requester(), page.user, page.now,
                           case_id=page.form.get("case_id", "").strip(),
                           whole_child=page.form.get("whole_child") == "on",
                           reason=page.form.get("reason", ""))
    except InvalidInput as invalid:
        return _overview(page, invalid.errors)
    return page.redirect("/dpo/retention?done=placed")


@endpoint()
def lift_legal_hold(page: Page, hold_id: str) -> Response:
    try:
        service.lift_hold(page.db, page.requester(), page.user, page.now, hold_id=hold_id,
                          reason=page.form.get("lift_reason", ""))
    except InvalidInput as invalid:
        return _overview(page, invalid.errors)
    return page.redirect("/dpo/retention?done=lifted")


routes = [
    Route("/admin/retention", retention_policies),
    Route("/admin/retention", confirm_retention_policy, methods=["POST"]),
    Route("/dpo/retention", retention_overview),
    Route("/dpo/retention/holds", place_legal_hold, methods=["POST"]),
    Route("/dpo/retention/holds/{hold_id}/lift", lift_legal_hold, methods=["POST"]),
]
