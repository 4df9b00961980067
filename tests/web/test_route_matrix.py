"""Every route, generated from the route table: anonymous, outsider, role, method.

A new route fails ``test_every_route_is_in_the_matrix`` until someone decides
who may use it and adds it to ``EXPECTED`` below.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.routing import Route

from portal.demo import DEMO_CASE, stable_id
from tests.harness import Running

CASE_ID = stable_id("case", DEMO_CASE.key)

# endpoint name -> (persona whose role is insufficient, persona outside the case)
# None means "not applicable" (public routes; routes outside any case).
EXPECTED: dict[str, tuple[str | None, str | None]] = {
    "home": (None, None),
    # The "stay logged in" button of the idle warning: any logged-in person.
    "session_alive": (None, None),
    "my_cases": ("ouder1", None),
    "new_case": ("notulist", None),
    "create_case": ("ouder1", None),
    "show_case": (None, "buitenstaander"),
    "case_timeline": (None, "buitenstaander"),
    # The case page's tabs: every participant, nobody outside the case.
    "case_meetings": (None, "buitenstaander"),
    "case_documents": (None, "buitenstaander"),
    "case_actions": (None, "buitenstaander"),
    "add_participant": ("mentor", "buitenstaander"),
    "remove_participant": ("notulist", "buitenstaander"),
    "close_case": ("mentor", "buitenstaander"),
    "erase_case": ("mentor", "buitenstaander"),
    "overview": ("mentor", None),
    "add_organisation": ("ib", None),
    "set_person_active": ("fg", None),
    "consent_rules": ("ib", None),
    "set_consent_rule": ("ib", None),
    "ground_roles_page": ("ib", None),
    "set_ground_roles": ("ib", None),
    # Public: login, logout and the language switch work without a login.
    "login_page": (None, None),
    "start_login": (None, None),
    "callback": (None, None),
    # Step-up: any logged-in person may ask for a stronger login of their own.
    "step_up": (None, None),
    "logout": (None, None),
    "logged_out": (None, None),
    "logout_at_provider": (None, None),
    "choose_language": (None, None),
    "new_meeting": ("mentor", "buitenstaander"),
    "schedule_meeting": ("mentor", "buitenstaander"),
    "show_meeting": (None, "buitenstaander"),
    "cancel_meeting": ("notulist", "buitenstaander"),
    # Moving: whoever schedules, like cancelling.
    "move_meeting": ("notulist", "buitenstaander"),
    "add_action_item": ("mentor", "buitenstaander"),
    "set_action_item_status": ("notulist", "buitenstaander"),
    # Consent: professionals' pages, the safety exception, the DPO's review.
    "consent_page": ("ouder1", "buitenstaander"),
    "record_consent": ("mentor", "buitenstaander"),
    "record_withdrawal": ("mentor", "buitenstaander"),
    "break_glass": ("notulist", "buitenstaander"),
    "convert_form": ("mentor", "buitenstaander"),
    "convert_case": ("mentor", "buitenstaander"),
    "custody_form": ("mentor", "buitenstaander"),
    "record_custody": ("mentor", "buitenstaander"),
    "dpo_break_glass": ("mentor", None),
    "dpo_mark_reviewed": ("mentor", None),
    "dpo_erasures": ("mentor", None),
    # The family's pages: a professional is refused, an unrelated citizen gets 404.
    "family_home": ("mentor", None),
    "family_case": ("mentor", "pleegouder"),
    "give_consent": ("mentor", "pleegouder"),
    "confirm_withdrawal": ("mentor", "pleegouder"),
    "withdraw_consent": ("mentor", "pleegouder"),
    # Dev mode only: the mail catcher's page.
    "dev_mail": (None, None),
    # Probes for the load balancer: no session, nothing sensitive.
    "healthz": (None, None),
    "readyz": (None, None),
    # The access log: the DPO's search and exports, own history, the family's view.
    "dpo_search": ("mentor", None),
    "dpo_export_csv": ("mentor", None),
    "dpo_export_fhir": ("mentor", None),
    "own_access": ("ouder1", None),
    "family_children": ("mentor", None),
    # Without a standing towards the child (professionals too) its existence must not leak.
    "child_access": (None, "mentor"),
    # Minutes and attachments: every participant reads and writes, the chair erases.
    "upload_document": (None, "buitenstaander"),
    "show_document": (None, "buitenstaander"),
    "revise_minutes": (None, "buitenstaander"),
    "download_document": (None, "buitenstaander"),
    "erase_document": ("mentor", "buitenstaander"),
    "erase_case_documents": ("notulist", "buitenstaander"),
    # Structured minutes: participants read, the minute-taker writes, the chair approves
    # and decides corrections; the family has its own page (family_case).
    "show_minutes": ("ouder1", "buitenstaander"),
    "minutes_history": ("ouder1", "buitenstaander"),
    "export_minutes": ("ouder1", "buitenstaander"),
    "edit_minutes": ("mentor", "buitenstaander"),
    "autosave_minutes": ("mentor", "buitenstaander"),
    "save_minutes": ("mentor", "buitenstaander"),
    "submit_minutes": ("mentor", "buitenstaander"),
    "approve_minutes": ("notulist", "buitenstaander"),
    "propose_correction": ("ouder1", "buitenstaander"),
    "accept_correction": ("notulist", "buitenstaander"),
    "reject_correction": ("notulist", "buitenstaander"),
    # Family invitations: the care coordinator of the child's school; the invitee's
    # redemption pages work before any person is bound to the login.
    "invitations_overview": ("mentor", None),
    "invitation_child": ("mentor", "buitenstaander"),
    "send_invitation": ("mentor", "buitenstaander"),
    "unbind_family_login": ("mentor", "buitenstaander"),
    "resend_invitation": (None, "buitenstaander"),
    "revoke_invitation": (None, "buitenstaander"),
    "invitation_code_form": (None, None),
    "redeem_invitation": (None, None),
    "invitation_link": (None, None),
    "invitation_redeemed": (None, None),
    # The staff lifecycle: each participant chooses their own capacity; the care
    # coordinator of the case's organisation appoints the chair (a colleague who is
    # not one gets 403, anyone else 404).
    "choose_capacity": (None, "buitenstaander"),
    "chair_form": ("mentor", "buitenstaander"),
    "appoint_chair": ("mentor", "buitenstaander"),
    # The pupil register: the school's care coordinator (or its administrator role);
    # a colleague without that role is refused, another school's staff get 404.
    "register_index": ("mentor", None),
    "show_register": ("mentor", "buitenstaander"),
    "new_register_child": ("mentor", "buitenstaander"),
    "create_register_child": ("mentor", "buitenstaander"),
    "show_register_child": ("mentor", "buitenstaander"),
    "update_register_child": ("mentor", "buitenstaander"),
    "deactivate_register_child": ("mentor", "buitenstaander"),
    "add_register_adult": ("mentor", "buitenstaander"),
    "preview_register_import": ("mentor", "buitenstaander"),
    "commit_register_import": ("mentor", "buitenstaander"),
    # Legal grounds (issue 12): the chair's page, invoking by the organisation's roles
    # (a minute-taker may do neither), the DPO's queue.
    "grounds_page": ("notulist", "buitenstaander"),
    "invoke_ground": ("notulist", "buitenstaander"),
    "change_ground": ("notulist", "buitenstaander"),
    "end_ground": ("notulist", "buitenstaander"),
    "complete_ground_task": ("notulist", "buitenstaander"),
    "dpo_grounds": ("mentor", None),
    "dpo_ground_reviewed": ("mentor", None),
    # The register of processing (issue 13): the organisation's FG (and the supervisor);
    # a colleague without the FG role is refused, anyone else gets 404.
    "processing_register": ("ib", "buitenstaander"),
    "update_processing_register": ("ib", "buitenstaander"),
    "processing_register_json": ("ib", "buitenstaander"),
    "processing_register_pdf": ("ib", "buitenstaander"),
    # The privacy page for families: public.
    "privacy": (None, None),
    "processing_registers": ("mentor", None),
    # Rights (issue 13): the FG's restriction desk (any other role 403, whatever the case).
    "fg_restrictions": ("mentor", None),
    "fg_case": ("mentor", None),
    "place_restriction": ("mentor", None),
    "lift_restriction": ("mentor", None),
    # Rectification by the family: custodians and the pupil 16+ only, like the family pages.
    "propose_rectification": ("mentor", "pleegouder"),
    "attach_statement": ("mentor", "pleegouder"),
    # Objection: the family files it (as above), the case's FG decides (as restrictions).
    "file_objection": ("mentor", "pleegouder"),
    "decide_objection": ("mentor", None),
    # The data-breach register: every professional reports, the FG keeps the register.
    "report_breach_form": ("ouder1", None),
    "report_breach": ("ouder1", None),
    "dpo_breaches": ("mentor", None),
    "dpo_breaches_csv": ("mentor", None),
    "dpo_breaches_pdf": ("mentor", None),
    "dpo_breach": ("mentor", None),
    "dpo_breach_assess": ("mentor", None),
    "dpo_breach_decide": ("mentor", None),
    "dpo_breach_scope": ("mentor", None),
    # Changing an agenda's categories: whoever schedules (and may read the agenda).
    "category_form": ("mentor", "buitenstaander"),
    "change_categories": ("mentor", "buitenstaander"),
    # Retention: the administrator confirms the board's periods, the FG sees and holds.
    "retention_policies": ("ib", None),
    "confirm_retention_policy": ("ib", None),
    "retention_overview": ("mentor", None),
    "place_legal_hold": ("mentor", None),
    "lift_legal_hold": ("mentor", None),
    # Requests of data subjects: the family files and follows its own (a request of
    # someone else is 404), the FG handles those of the organisations they oversee.
    "family_requests": ("mentor", None),
    "new_family_request": ("mentor", None),
    "file_family_request": ("mentor", None),
    "family_request": ("mentor", "pleegouder"),
    "answer_identity": ("mentor", "pleegouder"),
    "dpo_requests": ("mentor", None),
    "dpo_new_request": ("mentor", None),
    "dpo_register_request": ("mentor", None),
    "dpo_request": ("mentor", None),
    "dpo_assign_request": ("mentor", None),
    "dpo_note_request": ("mentor", None),
    "dpo_extend_request": ("mentor", None),
    "dpo_ask_identity": ("mentor", None),
    "dpo_record_identity": ("mentor", None),
    "dpo_decide_request": ("mentor", None),
    "family_copy_pdf": ("mentor", "pleegouder"),
    "family_copy_json": ("mentor", "pleegouder"),
    "dpo_prepare_copy": ("mentor", None),
    "dpo_review_copy": ("mentor", None),
    "dpo_release_copy": ("mentor", None),
    "dpo_restrict": ("mentor", None),
    "dpo_unrestrict": ("mentor", None),
    "dpo_erase": ("mentor", None),
    # Notifications (issue 14): each person's own inbox and mail choice; another
    # person's notification id answers 404 (tests/notifications/test_inbox.py).
    "inbox": (None, None),
    "mark_all_read": (None, None),
    "open_notification": (None, None),
    "notification_settings": (None, None),
    "save_notification_settings": (None, None),
    # Search (issue 14): whoever may list cases; the family has no case list.
    "search": ("ouder1", None),
    # The deployment's theme (portal/theme): public, like /static (the login page uses it).
    "theme_css": (None, None),
    "theme_logo": (None, None),
}


def portal_routes(running: Running) -> list[Route]:
    return [r for r in running.app.routes if isinstance(r, Route)]


def concrete(path: str) -> str:
    values = {"case_id": CASE_ID, "participant_id": stable_id("x", "participant"),
              "provider_id": "dev", "person_id": stable_id("person", "mentor"),
              "document_id": stable_id("x", "document"),
              "meeting_id": stable_id("meeting", DEMO_CASE.key),
              "item_id": stable_id("action_item", DEMO_CASE.key),
              "consent_id": stable_id("consent", f"{DEMO_CASE.key}:0"),
              "grant_id": stable_id("x", "grant"), "child_id": stable_id("child", "sam"),
              "correction_id": stable_id("x", "correction"),
              "invitation_id": stable_id("x", "invitation"), "code": "x",
              "organisation_id": stable_id("org", "het-baken"),
              "ground_id": stable_id("x", "ground"), "task_id": stable_id("x", "task"),
              "breach_id": stable_id("x", "breach"),
              "hold_id": stable_id("x", "hold"),
              "request_id": stable_id("x", "request"),
              "notification_id": stable_id("x", "notification")}
    return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], path)


def call(client: Any, method: str, path: str) -> Any:
    if method == "GET":
        return client.get(path, follow_redirects=False)
    client.page("/login")
    return client.post(path, data={"csrf_token": client.csrf}, follow_redirects=False)


def test_every_route_is_in_the_matrix(running_sqlite: Running) -> None:
    names = {r.endpoint.__name__ for r in portal_routes(running_sqlite)}
    assert names == set(EXPECTED)


def test_anonymous_visitors_are_sent_to_log_in(running: Running) -> None:
    for route in portal_routes(running):
        if not getattr(route.endpoint, "login_required", False):
            continue
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            response = call(running.client(), method, concrete(route.path))
            assert response.status_code == 303, (method, route.path)
            assert response.headers["location"].startswith("/login?next="), route.path


def test_people_outside_a_case_get_404(running: Running) -> None:
    clients: dict[str, Any] = {}
    for route in portal_routes(running):
        outsider = EXPECTED[route.endpoint.__name__][1]
        if outsider is None:
            continue
        if outsider not in clients:
            clients[outsider] = running.client()
            clients[outsider].login(outsider)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            response = call(clients[outsider], method, concrete(route.path))
            assert response.status_code == 404, (method, route.path)
            assert "Pagina niet gevonden" in response.text


def test_insufficient_roles_get_403(running: Running) -> None:
    clients: dict[str, Any] = {}
    for route in portal_routes(running):
        persona = EXPECTED[route.endpoint.__name__][0]
        if persona is None:
            continue
        if persona not in clients:
            clients[persona] = running.client()
            clients[persona].login(persona)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            response = call(clients[persona], method, concrete(route.path))
            assert response.status_code == 403, (persona, method, route.path)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_wrong_methods_get_405(running_sqlite: Running, method: str) -> None:
    client = running_sqlite.client()
    client.login("ib")
    paths = {}
    for route in portal_routes(running_sqlite):
        paths.setdefault(concrete(route.path), set()).update(route.methods or ())
    for path, methods in paths.items():
        if method in methods:
            continue
        response = client.request(method, path, follow_redirects=False,
                                  headers={"X-CSRF-Token": client.csrf})
        assert response.status_code == 405, (method, path)
        assert "Deze handeling is hier niet mogelijk" in response.text
