"""The rights pages: the FG's restriction desk; thin routes over the rights services."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.audit.views import StepUpRequired
from portal.errors import InvalidInput
from portal.parents.routes import render_family_case
from portal.rights import objection, rectification, restriction
from portal.web.endpoint import Page, endpoint


def _required(page: Page) -> str:
    return page.portal.settings.effective_audit_dpo_acr


def _step_up(page: Page, step_up: StepUpRequired) -> Response:
    return page.render("audit/step_up.html", status=403, required=step_up.required)


@endpoint()
def fg_restrictions(page: Page) -> Response:
    cases = restriction.fg_restricted_cases(page.db, page.requester(), page.user, page.now)
    return page.render("rights/fg_restrictions.html", cases=cases)


def _fg_case(page: Page, case_id: str, errors: dict[str, str], status: int = 200) -> Response:
    try:
        view = restriction.fg_case_page(page.db, page.portal.vault, page.requester(),
                                        page.user, page.now, case_id, acr=page.session.acr,
        required_acr=_required(page))
    except StepUpRequired as step_up:
        return _step_up(page, step_up)
    objections = objection.case_objections(page.db, page.portal.vault, page.requester(),
                                           page.now, view.case_id)
    return page.render("rights/fg_case.html", status=status, view=view, errors=errors,
                       objections=objections,
                       values=dict(page.form), notice=page.request.query_params.get("done"))


@endpoint()
def fg_case(page: Page, case_id: str) -> Response:
    return _fg_case(page, case_id, {})


@endpoint()
def place_restriction(page: Page, case_id: str) -> Response:
    try:
        restriction.place_restriction(page.db, page.portal.vault, page.requester(), page.user,
                                      page.now, case_id, page.form.get("reason", ""),
                                      acr=page.session.acr,
        required_acr=_required(page))
    except StepUpRequired as step_up:
        return _step_up(page, step_up)
    except InvalidInput as invalid:
        return _fg_case(page, case_id, invalid.errors, status=400)
    return page.redirect(f"/rights/cases/{case_id}?done=placed")


@endpoint()
def lift_restriction(page: Page, case_id: str) -> Response:
    try:
        restriction.lift_restriction(page.db, page.portal.vault, page.requester(), page.user,
                                     page.now, case_id, page.form.get("restriction_id", ""),
                                     page.form.get("lift_reason", ""), acr=page.session.acr,
        required_acr=_required(page))
    except StepUpRequired as step_up:
        return _step_up(page, step_up)
    except InvalidInput as invalid:
        return _fg_case(page, case_id, invalid.errors, status=400)
    return page.redirect(f"/rights/cases/{case_id}?done=lifted")


routes = [
    Route("/rights/restrictions", fg_restrictions),
    Route("/rights/cases/{case_id}", fg_case),
    Route("/rights/cases/{case_id}/restrictions", place_restriction, methods=["POST"]),
    Route("/rights/cases/{case_id}/restrictions/lift", lift_restriction, methods=["POST"]),
]


@endpoint()
def propose_rectification(page: Page, case_id: str) -> Response:
    try:
        rectification.propose_fact_correction(
            page.db, page.portal.vault, page.requester(), page.user, page.now, case_id,
            page.form.get("meeting_id", ""), page.form.get("section", ""),
            page.form.get("text", ""), page.form.get("reason", ""))
    except InvalidInput as invalid:
        return render_family_case(page, case_id, invalid.errors)
    return page.redirect(f"/family/cases/{case_id}?done=rectification#rectifications-heading")


@endpoint()
def attach_statement(page: Page, case_id: str) -> Response:
    try:
        rectification.attach_statement(
            page.db, page.portal.vault, page.requester(), page.user, page.now, case_id,
            page.form.get("meeting_id", ""), page.form.get("section", ""),
            page.form.get("statement", ""))
    except InvalidInput as invalid:
        return render_family_case(page, case_id, invalid.errors)
    return page.redirect(f"/family/cases/{case_id}?done=statement")


routes += [
    Route("/family/cases/{case_id}/rectifications", propose_rectification, methods=["POST"]),
    Route("/family/cases/{case_id}/statements", attach_statement, methods=["POST"]),
]


@endpoint()
def decide_objection(page: Page, case_id: str) -> Response:
    try:
        objection.decide_objection(
            page.db, page.portal.vault, page.requester(), page.user, page.now, case_id,
            page.form.get("objection_id", ""), upheld=page.form.get("outcome") == "upheld",
            decision=page.form.get("decision", ""), acr=page.session.acr,
            required_acr=_required(page))
    except StepUpRequired as step_up:
        return _step_up(page, step_up)
    except InvalidInput as invalid:
        return _fg_case(page, case_id, invalid.errors, status=400)
    return page.redirect(f"/rights/cases/{case_id}?done=decided")


@endpoint()
def file_objection(page: Page, case_id: str) -> Response:
    try:
        objection.file_objection(page.db, page.portal.vault, page.requester(), page.user,
                                 page.now, case_id, page.form.get("objection", ""),
                                 page.portal.settings.public_url)
    except InvalidInput as invalid:
        return render_family_case(page, case_id, invalid.errors)
    return page.redirect(f"/family/cases/{case_id}?done=objection")


routes += [
    Route("/rights/cases/{case_id}/objections/decide", decide_objection, methods=["POST"]),
    Route("/family/cases/{case_id}/objections", file_objection, methods=["POST"]),
]
