"""Case pages: identify, call one service, render. No SQL, no role checks here."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.cases import capacity, closing, creation, erasure, participants, service, tabs
from portal.cases.models import LegalBasis
from portal.cases.preview import ConfirmationNeeded
from portal.consent.anonymous import IdentifiersFound
from portal.consent.identifiers import Finding
from portal.errors import N_, InvalidInput
from portal.meetings import action_items
from portal.staff import chair
from portal.web.endpoint import Page, endpoint


@endpoint()
def my_cases(page: Page) -> Response:
    cases = service.list_cases(page.db, page.portal.vault, page.requester(), page.user, page.now,
                               service.page_number(page.request.query_params.get("page", "")))
    my_items = action_items.my_action_items(page.db, page.portal.vault, page.requester(),
                                            page.user, page.now)
    vacancies = chair.vacancies_to_fill(page.db, page.requester(), page.user, page.now)
    return page.render("cases/list.html", cases=cases, my_items=my_items, vacancies=vacancies,
                       may_create=creation.may_create(page.user))


GROUND_VALUES = frozenset(b.value for b in LegalBasis if b is not LegalBasis.CONSENT)


@endpoint()
def new_case(page: Page) -> Response:
    return _case_form(page, errors={}, values={})


def _case_form(page: Page, errors: dict[str, str], values: dict[str, str],
               findings: dict[str, list[Finding]] | None = None) -> Response:
    children = creation.selectable_children(page.db, page.portal.vault, page.requester(),
                                            page.user, page.now)
    return page.render("cases/new.html", status=400 if errors else 200, children=children,
                       bases=list(LegalBasis), errors=errors, values=values,
                       findings=findings or {},
                       capacities=capacity.creating_capacities(page.db, page.user))


@endpoint()
def create_case(page: Page) -> Response:
    form = page.form
    # A ground other than consent is a scoped disclosure, invoked with its scope and
    # justification on the grounds page right after: the case itself rests on consent.
    chosen = form.get("legal_basis", "")
    ground = chosen if chosen in GROUND_VALUES and form.get("anonymous") != "on" else None
    try:
        new = creation.validate_new_case(
            page.user, page.db, child_id=form.get("child_id", ""),
            anonymous=form.get("anonymous") == "on", title=form.get("title", ""),
            purpose=form.get("purpose", ""),
            legal_basis=LegalBasis.CONSENT.value if ground else chosen,
            confirm_identifiers=form.get("confirm_identifiers") == "on",
            capacity=form.get("capacity", ""))
        case_id = creation.create_case(page.db, page.portal.vault, page.requester(), page.user,
                                       page.now, new)
    except IdentifiersFound as found:
        return _case_form(page, errors=found.errors, values=dict(form), findings=found.findings)
    except InvalidInput as invalid:
        return _case_form(page, errors=invalid.errors, values=dict(form))
    if ground:
        return page.redirect(f"/cases/{case_id}/grounds?basis={ground}")
    return page.redirect(f"/cases/{case_id}")


@endpoint()
def show_case(page: Page, case_id: str) -> Response:
    return _show(page, case_id)


def _show(page: Page, case_id: str, status: int = 200,
          erase_errors: dict[str, str] | None = None) -> Response:
    """The overview tab: participants, what needs attention, close and erase."""
    tab = tabs.overview(page.db, page.portal.vault, page.requester(), page.user, page.now,
                        case_id)
    return page.render("cases/show.html", status=status, tab=tab, case=tab.case,
                       candidates=tab.candidates, addable_roles=participants.ADDABLE_ROLES,
                       errors={}, notice=None, erase_errors=erase_errors or {},
                       agenda=tab.agenda, restrictions=tab.restrictions, current="overview")


@endpoint()
def case_meetings(page: Page, case_id: str) -> Response:
    tab = tabs.meetings_tab(page.db, page.portal.vault, page.requester(), page.user, page.now,
                            case_id)
    return page.render("cases/meetings.html", tab=tab, case=tab.case, agenda=tab.agenda,
                       minutes=tab.minutes, current="meetings")


@endpoint()
def case_documents(page: Page, case_id: str) -> Response:
    tab = tabs.documents_tab(page.db, page.portal.vault, page.requester(), page.user, page.now,
                             case_id)
    return page.render("cases/documents.html", tab=tab, case=tab.case,
                       documents=tab.documents, current="documents",
                       max_upload_mb=page.portal.settings.max_upload_mb)


@endpoint()
def case_actions(page: Page, case_id: str) -> Response:
    tab = tabs.actions_tab(page.db, page.portal.vault, page.requester(), page.user, page.now,
                           case_id)
    return page.render("cases/actions.html", tab=tab, case=tab.case, agenda=tab.agenda,
                       errors={}, current="actions")


def _participants_fragment(page: Page, case_id: str, errors: dict[str, str],
                           notice: str | None = None) -> Response:
    # After a confirmed change the confirm button is gone: focus goes to the notice.
    focus = notice is not None and page.form.get("confirm") == "1"
    if not page.htmx:
        tab = tabs.overview(page.db, page.portal.vault, page.requester(), page.user, page.now,
                            case_id)
        return page.render("cases/show.html", status=400 if errors else 200, tab=tab,
                           case=tab.case, candidates=tab.candidates,
                           addable_roles=participants.ADDABLE_ROLES, errors=errors, notice=notice,
                           erase_errors={}, agenda=tab.agenda, restrictions=tab.restrictions,
                           current="overview", focus_notice=focus)
    case = service.view_case(page.db, page.portal.vault, page.requester(), page.user, page.now,
                             case_id)
    candidates = participants.selectable_people(page.db, (p.person_id for p in case.participants))
    return page.render("cases/_participants.html", status=400 if errors else 200, case=case,
                       candidates=candidates, addable_roles=participants.ADDABLE_ROLES,
                       errors=errors, notice=notice, focus_notice=focus)


@endpoint()
def add_participant(page: Page, case_id: str) -> Response:
    form = page.form
    try:
        participants.add_participant(page.db, page.portal.vault, page.requester(), page.user,
                                     page.now, case_id, form.get("person_id", ""),
                                     form.get("case_role", ""),
                                     confirmed=form.get("confirm") == "1")
    except ConfirmationNeeded as needed:
        return _confirm_change(page, case_id, needed, f"/cases/{case_id}/participants",
                               {"person_id": form.get("person_id", ""),
                                "case_role": form.get("case_role", "")})
    except InvalidInput as invalid:
        return _participants_fragment(page, case_id, invalid.errors)
    if not page.htmx:
        return page.redirect(f"/cases/{case_id}")
    return _participants_fragment(page, case_id, {}, notice=N_("Participant added."))


@endpoint()
def remove_participant(page: Page, case_id: str, participant_id: str) -> Response:
    action = f"/cases/{case_id}/participants/{participant_id}/remove"
    try:
        participants.remove_participant(page.db, page.portal.vault, page.requester(), page.user,
                                        page.now, case_id, participant_id,
                                        confirmed=page.form.get("confirm") == "1")
    except ConfirmationNeeded as needed:
        return _confirm_change(page, case_id, needed, action, {})
    except InvalidInput as invalid:
        return _participants_fragment(page, case_id, invalid.errors)
    if not page.htmx:
        return page.redirect(f"/cases/{case_id}")
    return _participants_fragment(page, case_id, {}, notice=N_("Participant removed."))


def _confirm_change(page: Page, case_id: str, needed: ConfirmationNeeded, action: str,
                    fields: dict[str, str]) -> Response:
    """The consequence, with confirm (the same form again, confirmed) and cancel; nothing
    was changed. With htmx it replaces the participants section; without, a page."""
    template = "cases/_confirm_change.html" if page.htmx else "cases/confirm_change.html"
    return page.render(template, case_id=case_id, preview=needed.preview,
                       action=action, fields=fields)


@endpoint()
def choose_capacity(page: Page, case_id: str) -> Response:
    try:
        participants.choose_capacity(page.db, page.requester(), page.user, page.now, case_id,
                                     page.form.get("capacity", ""))
    except InvalidInput as invalid:
        return _participants_fragment(page, case_id, invalid.errors)
    if not page.htmx:
        return page.redirect(f"/cases/{case_id}")
    return _participants_fragment(page, case_id, {}, notice=N_("Capacity saved."))


@endpoint()
def close_case(page: Page, case_id: str) -> Response:
    # Closing starts the retention periods: asked once more on a page of its own.
    # A refused close leaves one record, the refusal: the header (a case read) only
    # for the confirmation page of a close that would be allowed.
    if page.form.get("confirm") != "1" and closing.may_close(page.db, page.user, case_id):
        case = tabs.header(page.db, page.portal.vault, page.requester(), page.user, page.now,
                           case_id)
        return page.render("cases/confirm_close.html", case=case, current="overview")
    closing.close_case(page.db, page.requester(), page.user, page.now, case_id)
    return page.redirect(f"/cases/{case_id}")


@endpoint()
def erase_case(page: Page, case_id: str) -> Response:
    try:
        erasure.erase_case(page.db, page.portal.vault, page.requester(), page.user, page.now,
                           case_id, confirmed=page.form.get("confirm") == "on")
    except InvalidInput as invalid:
        # Not confirmed, or a legal hold: the case page again, the reason at the form.
        return _show(page, case_id, status=400, erase_errors=invalid.errors)
    return page.redirect(f"/cases/{case_id}")


routes = [
    Route("/cases", my_cases),
    Route("/cases/new", new_case),
    Route("/cases", create_case, methods=["POST"]),
    Route("/cases/{case_id}", show_case),
    Route("/cases/{case_id}/meetings", case_meetings),
    Route("/cases/{case_id}/documents", case_documents),
    Route("/cases/{case_id}/actions", case_actions),
    Route("/cases/{case_id}/participants", add_participant, methods=["POST"]),
    Route("/cases/{case_id}/participants/{participant_id}/remove", remove_participant,
          methods=["POST"]),
    Route("/cases/{case_id}/capacity", choose_capacity, methods=["POST"]),
    Route("/cases/{case_id}/close", close_case, methods=["POST"]),
    Route("/cases/{case_id}/erase", erase_case, methods=["POST"]),
]
