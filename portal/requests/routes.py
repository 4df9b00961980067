"""The requests desk: thin routes for the family (/family/requests) and the FG (/dpo/requests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from portal.audit.views import StepUpRequired
from portal.errors import N_, InvalidInput
from portal.requests import desk, execute, family
from portal.requests.models import IdentityCheck, Outcome, RequestKind
from portal.requests.service import (
    EVENT_LABELS,
    KIND_LABELS,
    OUTCOME_LABELS,
    STATUS_LABELS,
    URGENCY_LABELS,
)
from portal.web.endpoint import Page, endpoint

LABELS: dict[str, Any] = {
    "kinds": KIND_LABELS, "statuses": STATUS_LABELS, "outcomes": OUTCOME_LABELS,
    "events": EVENT_LABELS, "urgencies": URGENCY_LABELS, "identities": desk.IDENTITY_LABELS,
    "kind_values": list(RequestKind), "outcome_values": list(Outcome),
    "paper_checks": desk.PAPER_CHECKS, "portal_login": IdentityCheck.PORTAL_LOGIN,
    "duties": execute.DUTY_LABELS,
}
NOTICES = {
    "filed": N_("Your request has been received. You can follow it here."),
    "answered": N_("Your answer has been sent. The answer period runs again."),
    "registered": N_("The request has been registered."),
    "assigned": N_("The handler has been assigned."),
    "noted": N_("The note has been saved."),
    "extended": N_("The answer period has been extended; the requester can read why."),
    "asked": N_("The identity check has been asked; the answer period is paused."),
    "identity": N_("The answer has been recorded; the answer period runs again."),
    "decided": N_("The decision has been recorded; the requester can read it."),
    "released": N_("The copy has been released; the requester can download it."),
    "restricted": N_("The case has been restricted; the case page shows it to everyone."),
    "unrestricted": N_("The restriction has been lifted."),
    "erased": N_("The case has been erased; the access log keeps the fact."),
    "kept": N_("Recorded that the case is kept under a legal duty."),
}


def _notice(page: Page) -> str | None:
    return NOTICES.get(page.request.query_params.get("done", ""))


def _public_url(page: Page) -> str:
    return page.portal.settings.public_url


# The family ---------------------------------------------------------------------------

@endpoint()
def family_requests(page: Page) -> Response:
    requests = family.my_requests(page.db, page.portal.vault, page.requester(), page.user,
                                  page.now)
    return page.render("requests/family_list.html", requests=requests, **LABELS)


def _family_form(page: Page, errors: dict[str, str]) -> Response:
    choices = family.filing_choices(page.db, page.portal.vault, page.requester(), page.user,
                                    page.now)
    values = dict(page.form) or {"child": page.request.query_params.get("child", "")}
    return page.render("requests/family_new.html", status=400 if errors else 200,
                       choices=choices, errors=errors, values=values, **LABELS)


@endpoint()
def new_family_request(page: Page) -> Response:
    return _family_form(page, {})


@endpoint()
def file_family_request(page: Page) -> Response:
    try:
        request_id = family.file_request(page.db, page.portal.vault, page.requester(),
                                         page.user, page.now, page.form, _public_url(page))
    except InvalidInput as invalid:
        return _family_form(page, invalid.errors)
    return page.redirect(f"/family/requests/{request_id}?done=filed")


def _family_request(page: Page, request_id: str, errors: dict[str, str]) -> Response:
    shown = family.my_request(page.db, page.portal.vault, page.requester(), page.user,
                              page.now, request_id)
    return page.render("requests/family_show.html", status=400 if errors else 200,
                       request=shown, errors=errors, notice=_notice(page), **LABELS)


@endpoint()
def family_request(page: Page, request_id: str) -> Response:
    return _family_request(page, request_id, {})


@endpoint()
def answer_identity(page: Page, request_id: str) -> Response:
    try:
        family.answer_identity(page.db, page.portal.vault, page.requester(), page.user,
                               page.now, request_id, page.form, _public_url(page))
    except InvalidInput as invalid:
        return _family_request(page, request_id, invalid.errors)
    return page.redirect(f"/family/requests/{request_id}?done=answered")


# The FG -------------------------------------------------------------------------------

@endpoint()
def dpo_requests(page: Page) -> Response:
    rows = desk.desk(page.db, page.portal.vault, page.requester(), page.user, page.now)
    return page.render("requests/desk.html", rows=rows, **LABELS)


def _register_form(page: Page, errors: dict[str, str]) -> Response:
    child = page.form.get("child") or page.request.query_params.get("child")
    form = desk.register_form(page.db, page.portal.vault, page.requester(), page.user,
                              page.now, child)
    return page.render("requests/register.html", status=400 if errors else 200, form=form,
                       errors=errors, values=dict(page.form), **LABELS)


@endpoint()
def dpo_new_request(page: Page) -> Response:
    return _register_form(page, {})


@endpoint()
def dpo_register_request(page: Page) -> Response:
    try:
        request_id = desk.register_request(page.db, page.portal.vault, page.requester(),
                                           page.user, page.now, page.form)
    except InvalidInput as invalid:
        return _register_form(page, invalid.errors)
    return page.redirect(f"/dpo/requests/{request_id}?done=registered")


def _desk_request(page: Page, request_id: str, errors: dict[str, str]) -> Response:
    shown = desk.desk_request(page.db, page.portal.vault, page.requester(), page.user,
                              page.now, request_id)
    cases = execute.page_cases(page.db, page.user, request_id)
    return page.render("requests/desk_show.html", status=400 if errors else 200, page_=shown,
                       request=shown.request, cases=cases, errors=errors, notice=_notice(page),
                       values=dict(page.form), **LABELS)


@endpoint()
def dpo_request(page: Page, request_id: str) -> Response:
    return _desk_request(page, request_id, {})


def _step(page: Page, request_id: str, done: str, run: Callable[[], None]) -> Response:
    try:
        run()
    except InvalidInput as invalid:
        return _desk_request(page, request_id, invalid.errors)
    return page.redirect(f"/dpo/requests/{request_id}?done={done}")


@endpoint()
def dpo_assign_request(page: Page, request_id: str) -> Response:
    return _step(page, request_id, "assigned", lambda: desk.assign(
        page.db, page.portal.vault, page.requester(), page.user, page.now, request_id,
        page.form, _public_url(page)))


@endpoint()
def dpo_note_request(page: Page, request_id: str) -> Response:
    return _step(page, request_id, "noted", lambda: desk.note(
        page.db, page.portal.vault, page.requester(), page.user, page.now, request_id,
        page.form))


@endpoint()
def dpo_extend_request(page: Page, request_id: str) -> Response:
    return _step(page, request_id, "extended", lambda: desk.extend(
        page.db, page.portal.vault, page.requester(), page.user, page.now, request_id,
        page.form, _public_url(page)))


@endpoint()
def dpo_ask_identity(page: Page, request_id: str) -> Response:
    return _step(page, request_id, "asked", lambda: desk.ask_identity(
        page.db, page.portal.vault, page.requester(), page.user, page.now, request_id,
        page.form, _public_url(page)))


@endpoint()
def dpo_record_identity(page: Page, request_id: str) -> Response:
    return _step(page, request_id, "identity", lambda: desk.record_identity_answer(
        page.db, page.portal.vault, page.requester(), page.user, page.now, request_id,
        page.form))


@endpoint()
def dpo_decide_request(page: Page, request_id: str) -> Response:
    return _step(page, request_id, "decided", lambda: desk.decide_request(
        page.db, page.portal.vault, page.requester(), page.user, page.now, request_id,
        page.form, _public_url(page)))


def _acting(page: Page, request_id: str, run: Callable[..., Any],
            done: Callable[[Any], str]) -> Response:
    """Run a step that acts on a case: the FG logged in strongly enough, like on the
    restriction desk (``portal.rights``)."""
    try:
        result = run(page.db, page.portal.vault, page.requester(), page.user, page.now,
                     request_id, page.form, acr=page.session.acr,
                     required_acr=page.portal.settings.effective_audit_dpo_acr)
    except StepUpRequired as step_up:
        return page.render("audit/step_up.html", status=403, required=step_up.required)
    except InvalidInput as invalid:
        return _desk_request(page, request_id, invalid.errors)
    return page.redirect(f"/dpo/requests/{request_id}?done={done(result)}")


@endpoint()
def dpo_restrict(page: Page, request_id: str) -> Response:
    return _acting(page, request_id, execute.restrict_for_request, lambda _: "restricted")


@endpoint()
def dpo_unrestrict(page: Page, request_id: str) -> Response:
    return _acting(page, request_id, execute.lift_for_request, lambda _: "unrestricted")


@endpoint()
def dpo_erase(page: Page, request_id: str) -> Response:
    return _acting(page, request_id, execute.erase_for_request,
                   lambda erased: "erased" if erased else "kept")


@endpoint()
def dpo_prepare_copy(page: Page, request_id: str) -> Response:
    try:
        desk.prepare_copy(page.db, page.portal.vault, page.requester(), page.user, page.now,
                          request_id)
    except InvalidInput as invalid:
        return _desk_request(page, request_id, invalid.errors)
    return page.redirect(f"/dpo/requests/{request_id}/copy")


@endpoint()
def dpo_review_copy(page: Page, request_id: str) -> Response:
    shown, content = desk.review_copy(page.db, page.portal.vault, page.requester(), page.user,
                                      page.now, request_id)
    return page.render("requests/review_copy.html", request=shown, copy=content, **LABELS)


@endpoint()
def dpo_release_copy(page: Page, request_id: str) -> Response:
    return _step(page, request_id, "released", lambda: desk.release_copy(
        page.db, page.portal.vault, page.requester(), page.user, page.now, request_id,
        _public_url(page)))


def _download(page: Page, request_id: str, fmt: str) -> Response:
    content, media_type = family.download_copy(page.db, page.portal.vault, page.requester(),
                                               page.user, page.now, request_id, fmt)
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="inzage-{request_id[:8]}.{fmt}"',
        "Cache-Control": "no-store"})


@endpoint()
def family_copy_pdf(page: Page, request_id: str) -> Response:
    return _download(page, request_id, "pdf")


@endpoint()
def family_copy_json(page: Page, request_id: str) -> Response:
    return _download(page, request_id, "json")


routes = [
    Route("/family/requests", family_requests),
    Route("/family/requests", file_family_request, methods=["POST"]),
    Route("/family/requests/new", new_family_request),
    Route("/family/requests/{request_id}", family_request),
    Route("/family/requests/{request_id}/identity", answer_identity, methods=["POST"]),
    Route("/family/requests/{request_id}/copy.pdf", family_copy_pdf),
    Route("/family/requests/{request_id}/copy.json", family_copy_json),
    Route("/dpo/requests", dpo_requests),
    Route("/dpo/requests", dpo_register_request, methods=["POST"]),
    Route("/dpo/requests/new", dpo_new_request),
    Route("/dpo/requests/{request_id}", dpo_request),
    Route("/dpo/requests/{request_id}/assign", dpo_assign_request, methods=["POST"]),
    Route("/dpo/requests/{request_id}/notes", dpo_note_request, methods=["POST"]),
    Route("/dpo/requests/{request_id}/extend", dpo_extend_request, methods=["POST"]),
    Route("/dpo/requests/{request_id}/identity", dpo_ask_identity, methods=["POST"]),
    Route("/dpo/requests/{request_id}/identity-answer", dpo_record_identity,
          methods=["POST"]),
    Route("/dpo/requests/{request_id}/decision", dpo_decide_request, methods=["POST"]),
    Route("/dpo/requests/{request_id}/copy", dpo_prepare_copy, methods=["POST"]),
    Route("/dpo/requests/{request_id}/restrict", dpo_restrict, methods=["POST"]),
    Route("/dpo/requests/{request_id}/unrestrict", dpo_unrestrict, methods=["POST"]),
    Route("/dpo/requests/{request_id}/erase", dpo_erase, methods=["POST"]),
    Route("/dpo/requests/{request_id}/copy", dpo_review_copy),
    Route("/dpo/requests/{request_id}/copy/release", dpo_release_copy, methods=["POST"]),
]
