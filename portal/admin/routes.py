"""The administrator's pages."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.admin import ground_roles, service
from portal.errors import InvalidInput
from portal.people.models import OrganisationKind
from portal.web.endpoint import Page, endpoint
from portal.web.session_store import SqlSessionStore


def _overview(page: Page, errors: dict[str, str], values: dict[str, str]) -> Response:
    organisations, people = service.overview(page.db, page.portal.vault, page.requester(),
                                            page.user, page.now)
    return page.render("admin/overview.html", status=400 if errors else 200,
                       organisations=organisations, people=people, kinds=list(OrganisationKind),
                       errors=errors, values=values,
                       done=page.request.query_params.get("done", ""))


@endpoint()
def overview(page: Page) -> Response:
    return _overview(page, {}, {})


@endpoint()
def add_organisation(page: Page) -> Response:
    try:
        service.add_organisation(page.db, page.requester(), page.user, page.now,
                                 slug=page.form.get("slug", ""), name=page.form.get("name", ""),
                                 kind=page.form.get("kind", ""))
    except InvalidInput as invalid:
        return _overview(page, invalid.errors, dict(page.form))
    return page.redirect("/admin?done=organisation")


@endpoint()
def set_person_active(page: Page, person_id: str) -> Response:
    active = page.form.get("active") == "1"
    try:
        if not active and page.form.get("confirm") != "1":
            # Disabling logs someone out everywhere and takes them out of their
            # cases: the administrator sees that first and confirms it.
            person, name, cases = service.person_to_disable(
                page.db, page.portal.vault, page.requester(), page.user, page.now, person_id)
            return page.render("admin/confirm_disable.html", person_id=person, name=name,
                               cases=cases)
        service.set_person_active(page.db, SqlSessionStore(page.db), page.requester(),
                                  page.user, page.now, person_id, active)
    except InvalidInput as invalid:
        return _overview(page, invalid.errors, {})
    return page.redirect("/admin?done=" + ("enabled" if active else "disabled"))


def _consent_rules(page: Page, errors: dict[str, str], values: dict[str, str]) -> Response:
    rules = service.consent_rules(page.db, page.requester(), page.user, page.now)
    return page.render("admin/consent_rules.html", status=400 if errors else 200, rules=rules,
                       max_days=service.MAX_WARNING_DAYS, errors=errors, values=values)


@endpoint()
def consent_rules(page: Page) -> Response:
    return _consent_rules(page, {}, {})


@endpoint()
def set_consent_rule(page: Page) -> Response:
    try:
        service.set_consent_rule(page.db, page.requester(), page.user, page.now,
                                 organisation_id=page.form.get("organisation_id", ""),
                                 rule=page.form.get("rule", ""),
                                 warning_days=page.form.get("warning_days", ""))
    except InvalidInput as invalid:
        return _consent_rules(page, invalid.errors, dict(page.form))
    return page.redirect("/admin/consent-rules?done=1")


def _ground_roles(page: Page, errors: dict[str, str], organisation_id: str = "",
                  chosen: list[str] | None = None) -> Response:
    rows = ground_roles.ground_roles_page(page.db, page.requester(), page.user, page.now)
    return page.render("admin/ground_roles.html", status=400 if errors else 200, rows=rows,
                       choosable=ground_roles.CHOOSABLE, defaults=ground_roles.default_roles(),
                       errors=errors, organisation_id=organisation_id, chosen=chosen or [],
                       done=page.request.query_params.get("done", ""))


@endpoint()
def ground_roles_page(page: Page) -> Response:
    return _ground_roles(page, {})


@endpoint()
def set_ground_roles(page: Page) -> Response:
    organisation_id = page.form.get("organisation_id", "")
    chosen = [value for key, value in page.form_items if key == "roles"]
    try:
        ground_roles.set_ground_roles(page.db, page.requester(), page.user, page.now,
                                      organisation_id=organisation_id, roles=chosen)
    except InvalidInput as invalid:
        return _ground_roles(page, invalid.errors, organisation_id, chosen)
    return page.redirect(f"/admin/ground-roles?done={organisation_id}")


routes = [
    Route("/admin", overview),
    Route("/admin/organisations", add_organisation, methods=["POST"]),
    Route("/admin/people/{person_id}/active", set_person_active, methods=["POST"]),
    Route("/admin/consent-rules", consent_rules),
    Route("/admin/consent-rules", set_consent_rule, methods=["POST"]),
    Route("/admin/ground-roles", ground_roles_page),
    Route("/admin/ground-roles", set_ground_roles, methods=["POST"]),
]
