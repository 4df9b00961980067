"""Structured minutes pages: identify, call one service, render. No SQL, no role checks."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.consent.anonymous import IdentifiersFound
from portal.consent.identifiers import Finding
from portal.errors import InvalidInput
from portal.minutes import corrections, editor, history, pages, pdf, versions
from portal.rights.rectification import statements_for
from portal.web.endpoint import Page, endpoint


def _version_param(page: Page) -> int | None:
    raw = page.request.query_params.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 9 else None


def _findings(invalid: InvalidInput) -> dict[str, list[Finding]]:
    """What the identifier check found (anonymous cases), for the confirm box."""
    return invalid.findings if isinstance(invalid, IdentifiersFound) else {}


def _confirmed(page: Page) -> bool:
    return page.form.get("confirm_identifiers") == "on"


def _page(page: Page, meeting_id: str, errors: dict[str, str],
          findings: dict[str, list[Finding]] | None = None) -> Response:
    try:
        view = pages.view_minutes(page.db, page.portal.vault, page.requester(), page.user,
                                  page.now, meeting_id, _version_param(page))
    except InvalidInput:
        return page.render("errors/error.html", status=404, status_code=404,
                           csrf_failed=False)
    return page.render("minutes/show.html", status=400 if errors else 200, view=view,
                       errors=errors, values=dict(page.form), findings=findings or {},
                       rights_statements=statements_for(
                           page.db, page.portal.vault, page.requester(), page.now,
                           view.case_id, [s.key for s in view.sections]))


@endpoint()
def show_minutes(page: Page, meeting_id: str) -> Response:
    return _page(page, meeting_id, {})


@endpoint()
def minutes_history(page: Page, meeting_id: str) -> Response:
    changes = history.history(page.db, page.portal.vault, page.requester(), page.user,
                              page.now, meeting_id)
    return page.render("minutes/history.html", history=changes)


@endpoint()
def edit_minutes(page: Page, meeting_id: str) -> Response:
    view = editor.editor(page.db, page.portal.vault, page.requester(), page.user, page.now,
                         meeting_id)
    return page.render("minutes/edit.html", editor=view, errors={})


@endpoint()
def autosave_minutes(page: Page, meeting_id: str) -> Response:
    saved_at = editor.save_draft(page.db, page.portal.vault, page.requester(), page.user,
                                 page.now, meeting_id, page.form)
    if not page.htmx:
        return page.redirect(f"/meetings/{meeting_id}/minutes/edit")
    return page.render("minutes/_draft_status.html", saved_at=saved_at)


@endpoint()
def save_minutes(page: Page, meeting_id: str) -> Response:
    try:
        versions.save_version(page.db, page.portal.vault, page.requester(), page.user,
                              page.now, meeting_id, page.form,
                              confirm_identifiers=_confirmed(page))
    except InvalidInput as invalid:
        view = editor.editor_after_error(page.db, page.requester(), page.user, page.now,
                                         meeting_id, page.form)
        return page.render("minutes/edit.html", status=400, editor=view, errors=invalid.errors,
                           findings=_findings(invalid))
    return page.redirect(f"/meetings/{meeting_id}/minutes")


@endpoint()
def submit_minutes(page: Page, meeting_id: str) -> Response:
    try:
        versions.submit(page.db, page.requester(), page.user, page.now, meeting_id)
    except InvalidInput as invalid:
        return _page(page, meeting_id, invalid.errors)
    return page.redirect(f"/meetings/{meeting_id}/minutes")


@endpoint()
def approve_minutes(page: Page, meeting_id: str) -> Response:
    raw = page.form.get("version", "")
    try:
        versions.approve(page.db, page.portal.vault, page.requester(), page.user, page.now,
                         meeting_id,
                         int(raw) if raw.isdigit() and len(raw) < 9 else 0)
    except InvalidInput as invalid:
        return _page(page, meeting_id, invalid.errors)
    return page.redirect(f"/meetings/{meeting_id}/minutes")


@endpoint()
def propose_correction(page: Page, meeting_id: str) -> Response:
    try:
        corrections.propose(page.db, page.portal.vault, page.requester(), page.user, page.now,
                            meeting_id, page.form.get("section", ""),
                            page.form.get("text", ""), page.form.get("reason", ""),
                            confirm_identifiers=_confirmed(page))
    except InvalidInput as invalid:
        return _page(page, meeting_id, invalid.errors, _findings(invalid))
    return page.redirect(f"/meetings/{meeting_id}/minutes#corrections")


@endpoint()
def accept_correction(page: Page, meeting_id: str, correction_id: str) -> Response:
    try:
        corrections.accept(page.db, page.portal.vault, page.requester(), page.user, page.now,
                           meeting_id, correction_id)
    except InvalidInput as invalid:
        return _page(page, meeting_id, invalid.errors)
    return page.redirect(f"/meetings/{meeting_id}/minutes#corrections")


@endpoint()
def reject_correction(page: Page, meeting_id: str, correction_id: str) -> Response:
    try:
        corrections.reject(page.db, page.portal.vault, page.requester(), page.user, page.now,
                           meeting_id, correction_id, page.form.get("decision", ""))
    except InvalidInput as invalid:
        return _page(page, meeting_id, invalid.errors)
    return page.redirect(f"/meetings/{meeting_id}/minutes#corrections")


@endpoint()
def export_minutes(page: Page, meeting_id: str) -> Response:
    try:
        export = pdf.export_pdf(page.db, page.portal.vault, page.requester(), page.user,
                                page.now, meeting_id, _version_param(page))
    except InvalidInput:
        return page.render("errors/error.html", status=404, status_code=404,
                           csrf_failed=False)
    return Response(export.content, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{export.filename}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    })


routes = [
    Route("/meetings/{meeting_id}/minutes", show_minutes),
    Route("/meetings/{meeting_id}/minutes", save_minutes, methods=["POST"]),
    Route("/meetings/{meeting_id}/minutes/history", minutes_history),
    Route("/meetings/{meeting_id}/minutes/edit", edit_minutes),
    Route("/meetings/{meeting_id}/minutes/draft", autosave_minutes, methods=["POST"]),
    Route("/meetings/{meeting_id}/minutes/submit", submit_minutes, methods=["POST"]),
    Route("/meetings/{meeting_id}/minutes/approve", approve_minutes, methods=["POST"]),
    Route("/meetings/{meeting_id}/minutes/pdf", export_minutes),
    Route("/meetings/{meeting_id}/minutes/corrections", propose_correction,
          methods=["POST"]),
    Route("/meetings/{meeting_id}/minutes/corrections/{correction_id}/accept",
          accept_correction, methods=["POST"]),
    Route("/meetings/{meeting_id}/minutes/corrections/{correction_id}/reject",
          reject_correction, methods=["POST"]),
]
