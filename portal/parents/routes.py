"""The parent (and 16+ pupil) pages: thin routes over portal.parents.service."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.consent import service as consent
from portal.errors import N_, InvalidInput
from portal.minutes.family import family_minutes
from portal.notifications import service as notifications
from portal.parents import service
from portal.rights.objection import family_objections
from portal.rights.rectification import family_corrections, statements_for
from portal.rights.restriction import family_restriction_notices
from portal.web.endpoint import Page, endpoint


@endpoint()
def family_home(page: Page) -> Response:
    children = service.family_home(page.db, page.portal.vault, page.requester(), page.user,
                                   page.now)
    return page.render("parents/home.html", children=children,
                       latest=notifications.latest(page.db, page.user.person_id))


NOTICES = {"given": N_("Your consent has been recorded."),
           "withdrawn": N_("Your consent has been withdrawn. It counts from now on."),
           "rectification": N_("Your correction has been sent to the chair of the case."),
           "statement": N_("Your view has been added to the opinion."),
           "objection": N_("Your objection has been sent to the data protection officer. "
                           "Until they decide, nobody reads the content of this case.")}


def _case(page: Page, case_id: str, errors: dict[str, str]) -> Response:
    view = service.family_case(page.db, page.portal.vault, page.requester(), page.user,
                               page.now, case_id)
    notice = NOTICES.get(page.request.query_params.get("done", ""))
    shared = family_minutes(page.db, page.portal.vault, page.requester(), page.user,
                            page.now, case_id)
    return page.render("parents/case.html", status=400 if errors else 200, view=view,
                       family_minutes=shared, errors=errors, notice=notice,
                       values=dict(page.form),
                       restrictions=family_restriction_notices(
                           page.db, page.portal.vault, page.requester(), page.user, page.now,
                           case_id),
                       rights_statements=statements_for(
                           page.db, page.portal.vault, page.requester(), page.now, case_id,
                           [s.key for m in shared for s in m.sections]),
                       rights_corrections=family_corrections(
                           page.db, page.portal.vault, page.requester(), page.user, page.now,
                           case_id) if view.case.full else [],
                       rights_objections=family_objections(
                           page.db, page.portal.vault, page.requester(), page.user, page.now,
                           case_id) if view.case.full else [],
                       chosen=[v for k, v in page.form_items if k in ("category", "recipient")])


def render_family_case(page: Page, case_id: str, errors: dict[str, str]) -> Response:
    """The family's case page again, with the errors of a form on it (portal.rights)."""
    return _case(page, case_id, errors)


@endpoint()
def family_case(page: Page, case_id: str) -> Response:
    return _case(page, case_id, {})


@endpoint()
def give_consent(page: Page, case_id: str) -> Response:
    try:
        consent.give_consent(page.db, page.portal.vault, page.requester(), page.user, page.now,
                             case_id, consent.consent_form(page.form, page.form_items),
                             acr=page.session.acr,
                             required_acr=page.portal.settings.effective_consent_acr)
    except InvalidInput as invalid:
        return _case(page, case_id, invalid.errors)
    return page.redirect(f"/family/cases/{case_id}?done=given")


@endpoint()
def confirm_withdrawal(page: Page, case_id: str, consent_id: str) -> Response:
    view, chosen = service.withdrawal_page(page.db, page.portal.vault, page.requester(),
                                           page.user, page.now, case_id, consent_id)
    return page.render("parents/withdraw.html", view=view, consent=chosen)


@endpoint()
def withdraw_consent(page: Page, case_id: str, consent_id: str) -> Response:
    try:
        consent.withdraw_consent(page.db, page.portal.vault, page.requester(), page.user,
                                 page.now, case_id, consent_id)
    except InvalidInput as invalid:
        return _case(page, case_id, invalid.errors)
    return page.redirect(f"/family/cases/{case_id}?done=withdrawn")


routes = [
    Route("/family", family_home),
    Route("/family/cases/{case_id}", family_case),
    Route("/family/cases/{case_id}/consents", give_consent, methods=["POST"]),
    Route("/family/cases/{case_id}/consents/{consent_id}/withdraw", confirm_withdrawal),
    Route("/family/cases/{case_id}/consents/{consent_id}/withdraw", withdraw_consent,
          methods=["POST"]),
]
