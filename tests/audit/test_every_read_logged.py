"""Every route that shows case data leaves exactly one correct access record per access.

Generated from the portal's route table: a route with an object in its path
(``{case_id}``, ``{document_id}``, ``{child_id}`` …) shows case data; a route
without one must be classified below, so a new list page cannot be forgotten.
The refusals come from the route matrix's personas (tests/web/test_route_matrix.py);
each GET route that shows case data names a persona allowed to read it, or why
it cannot be read on the demo data.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from sqlalchemy import select

from portal.audit.models import AccessRecord
from portal.demo import DEMO_CASE, stable_id
from tests.harness import Running
from tests.web.test_route_matrix import EXPECTED, call, concrete, portal_routes

CASE_ID = stable_id("case", DEMO_CASE.key)
SAM = stable_id("child", "sam")
# A notification is the reader's own, content-free row; the page it leads to records.
NOT_AN_OBJECT = frozenset({"provider_id", "person_id", "notification_id"})

# Routes without an object in the path that still show case or child data: lists.
LISTS = frozenset({"home", "my_cases", "new_case", "family_home", "family_children",
                   "own_access", "dpo_search", "dpo_export_csv", "dpo_export_fhir",
                   "dpo_break_glass", "invitations_overview", "dpo_grounds",
                   "dpo_breaches", "dpo_breaches_csv", "dpo_breaches_pdf",
                   # Retention: case references and dates of what expires (no content).
                   "retention_overview",
                   # Requests of data subjects: the lists and the forms naming children.
                   "family_requests", "new_family_request", "file_family_request",
                   "dpo_requests", "dpo_new_request", "dpo_register_request",
                   "search"})
LISTS |= {"fg_restrictions"}
# Routes that show no case data at all.
NO_CASE_DATA = frozenset({"session_alive", "login_page", "start_login", "callback", "logout",
                          "logged_out", "choose_language", "overview", "add_organisation",
                          "set_person_active", "create_case", "dev_mail",
                          "step_up",  # a login, recorded as auth.step_up
                          # Organisation settings: who must consent, the birthday warning.
                          "consent_rules", "set_consent_rule",
                          # Which roles may invoke a legal ground, per organisation.
                          "ground_roles_page", "set_ground_roles",
                          # Probes: no session, no access record, nothing sensitive.
                          "healthz", "readyz",
                          # The school board's own stylesheet and logo: static files.
                          "theme_css", "theme_logo",
                          # Which organisations' registers one keeps: names, no pupils.
                          "register_index",
                          # Erasures backups could undo: dates and counts (recorded anyway).
                          "dpo_erasures",
                          # The invitee's own pages: a code form, before any person is bound.
                          "invitation_code_form", "redeem_invitation", "invitation_redeemed",
                          # A link to the provider's end-session endpoint.
                          "logout_at_provider",
                          # The public privacy page for families: explanation, no data.
                          "privacy",
                          # Which organisations' registers of processing an FG keeps.
                          "processing_registers",
                          # Reporting a data breach: the reporter's own text, no case data.
                          "report_breach_form", "report_breach",
                          # Retention periods per organisation; placing a hold (a write).
                          "retention_policies", "confirm_retention_policy",
                          "place_legal_hold",
                          # One's own content-free notifications and mail choice.
                          "inbox", "mark_all_read", "open_notification",
                          "notification_settings", "save_notification_settings"})

# GET routes that show case data: who may read them on the demo data (or why nobody can).
READERS: dict[str, str] = {
    "home": "ib", "my_cases": "ib", "new_case": "ib", "show_case": "ib", "case_timeline": "ib",
    "own_access": "ib", "custody_form": "ib", "chair_form": "ib",
    "dpo_search": "fg", "dpo_export_csv": "fg", "dpo_export_fhir": "fg",
    "dpo_break_glass": "fg", "family_children": "ouder1", "child_access": "ouder1",
    "family_home": "ouder1", "family_case": "ouder1", "consent_page": "ib",
    "new_meeting": "ib", "show_meeting": "ib",
    "show_minutes": "ib", "minutes_history": "ib", "export_minutes": "ib",
    "edit_minutes": "notulist",
    "invitations_overview": "ib", "invitation_child": "ib",
    "show_register": "ib", "new_register_child": "ib", "show_register_child": "ib",
    "grounds_page": "ib", "dpo_grounds": "fg",
    "processing_register": "fg", "processing_register_json": "fg",
    "processing_register_pdf": "fg",
    "dpo_breaches": "fg", "dpo_breaches_csv": "fg", "dpo_breaches_pdf": "fg",
    "retention_overview": "fg",
    "family_requests": "ouder1", "new_family_request": "ouder1", "dpo_requests": "fg",
    "dpo_new_request": "fg",
    "search": "ib",
    # The case page's tabs (Overzicht is show_case).
    "case_meetings": "ib", "case_documents": "ib", "case_actions": "ib",
}
READERS |= {"fg_restrictions": "fg", "fg_case": "fg"}
UNREADABLE = {
    "show_document": "the demo data has no document",
    "download_document": "the demo data has no document",
    "confirm_withdrawal": "the demo data has no consent to withdraw",
    "convert_form": "the demo case is named: there is no anonymous case to convert",
    "invitation_link": "a code exists only in an invitation mail (tests/invitations opens one)",
    "dpo_breach": "the demo data has no data breach (tests/breaches reports one)",
    "category_form": "nobody's consent covers the demo agenda (family situation); "
                     "tests/meetings/test_category_preview.py opens one",
    "family_request": "the demo data has no request (tests/requests files one)",
    "dpo_request": "the demo data has no request (tests/requests files one)",
    "family_copy_pdf": "the demo data has no request (tests/requests files one)",
    "family_copy_json": "the demo data has no request (tests/requests files one)",
    "dpo_review_copy": "the demo data has no request (tests/requests files one)",
}


def case_data_routes(running: Running) -> list[Any]:
    found = []
    for route in portal_routes(running):
        params = set(re.findall(r"{(\w+)}", route.path)) - NOT_AN_OBJECT
        if params or route.endpoint.__name__ in LISTS:
            found.append(route)
    return found


def person(persona: str) -> str:
    return stable_id("person", persona)


def new_records(running: Running, after: int) -> list[AccessRecord]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord).where(AccessRecord.seq > after)
                               .order_by(AccessRecord.seq)))


def last_seq(running: Running) -> int:
    with running.portal.sessions() as db:
        return db.scalar(select(AccessRecord.seq).order_by(AccessRecord.seq.desc())
                         .limit(1)) or 0


def expect_object(record: AccessRecord, path: str) -> None:
    if "{case_id}" in path:
        assert record.case_id == CASE_ID, (path, record.case_id)
    if "{child_id}" in path:
        assert record.child_id == SAM, (path, record.child_id)


def test_every_route_is_classified(running_sqlite: Running) -> None:
    scoped = {r.endpoint.__name__ for r in case_data_routes(running_sqlite)}
    names = {r.endpoint.__name__ for r in portal_routes(running_sqlite)}
    assert names - scoped == NO_CASE_DATA, "classify the new route in LISTS or NO_CASE_DATA"
    gets = {r.endpoint.__name__ for r in case_data_routes(running_sqlite)
            if "GET" in (r.methods or ())}
    assert gets == set(READERS) | set(UNREADABLE), "name a reader for the new page"


def test_every_refused_access_leaves_exactly_one_denied_record(running: Running) -> None:
    clients: dict[str, Any] = {}
    for route in case_data_routes(running):
        # The route matrix fails on its own for a route it does not know yet.
        insufficient, outsider = EXPECTED.get(route.endpoint.__name__, (None, None))
        for persona in (p for p in (insufficient, outsider) if p):
            if persona not in clients:
                clients[persona] = running.client()
                clients[persona].login(persona)
            for method in sorted((route.methods or set()) - {"HEAD"}):
                path = concrete(route.path)
                if method == "POST":
                    clients[persona].page("/login")
                before = last_seq(running)
                response = call(clients[persona], method, path)
                assert response.status_code in (403, 404), (persona, method, path)
                records = new_records(running, before)
                where = (persona, method, route.path)
                assert len(records) == 1, (where, [r.event_type for r in records])
                record = records[0]
                assert record.outcome == "denied" and record.reason, where
                assert record.user_id == person(persona), where
                # A refused POST may be recorded as the refused read of its form.
                assert record.action_code == "R" or method == "POST", where
                assert not record.authorised, where
                if response.status_code == 403:
                    expect_object(record, route.path)


def test_every_allowed_read_leaves_one_correct_record_per_object(running: Running) -> None:
    clients: dict[str, Any] = {}
    for route in case_data_routes(running):
        name = route.endpoint.__name__
        if name not in READERS:
            continue
        persona = READERS[name]
        if persona not in clients:
            clients[persona] = running.client()
            clients[persona].login(persona)
        path = concrete(route.path)
        before = last_seq(running)
        response = clients[persona].get(path, follow_redirects=False)
        assert response.status_code == 200, (persona, path, response.status_code)
        records = new_records(running, before)
        if not records and name in LISTS:
            continue  # a list records one access per listed item; this one listed none
        assert records, f"{path} was read without an access record"
        for record in records:
            assert record.user_id == person(persona), path
            assert record.action_code == "R", (path, record.event_type)
            assert record.occurred_at == running.clock.now, path
            assert record.session_ref and record.client_address == "127.0.0.1", path
            assert record.outcome in ("allowed", "denied"), path
            assert record.authorised == (record.outcome == "allowed"), path
        main = [r for r in records if r.outcome == "allowed"]
        assert main, f"{path}: no allowed record"
        if "{case_id}" in route.path or "{child_id}" in route.path:
            assert any(r.case_id == CASE_ID or r.child_id == SAM for r in main), path
        objects = Counter((r.event_type, r.case_id, r.child_id, r.object_type, r.object_id,
                           r.document_id, r.document_version) for r in records)
        duplicated = [key for key, count in objects.items() if count > 1]
        assert duplicated == [], f"{path}: more than one record for one access: {duplicated}"
