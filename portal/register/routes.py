"""Register pages: identify, call one service, render. No SQL, no role checks here."""

from __future__ import annotations

import re

from starlette.responses import Response
from starlette.routing import Route

from portal.errors import InvalidInput
from portal.register import service
from portal.register.importer import Plan
from portal.web.endpoint import Page, endpoint
from portal.web.uploads import UploadError

# Far above any school's export; the endpoint also holds it to PORTAL_MAX_UPLOAD_MB.
MAX_IMPORT_BYTES = 20 * 1024 * 1024


@endpoint()
def register_index(page: Page) -> Response:
    organisations = service.registers(page.db, page.requester(), page.user, page.now)
    if len(organisations) == 1:
        return page.redirect(f"/register/{organisations[0].id}")
    return page.render("register/index.html", organisations=organisations)


@endpoint()
def show_register(page: Page, organisation_id: str) -> Response:
    query = page.request.query_params
    number = query.get("leerlingnummer", "")
    page_number = int(query["pagina"]) if query.get("pagina", "").isdigit() else 0
    register = service.register_page(page.db, page.portal.vault, page.requester(), page.user,
                                     page.now, organisation_id, page_number, number)
    done = query.get("klaar", "")
    notice = done.split("-") if re.fullmatch(r"\d+-\d+-\d+", done) else None
    return page.render("register/list.html", register=register, notice=notice)


@endpoint()
def new_register_child(page: Page, organisation_id: str) -> Response:
    organisation = service.organisation_for_form(page.db, page.requester(), page.user,
                                                 page.now, organisation_id)
    return page.render("register/child_form.html", organisation=organisation, child=None,
                       errors={}, values={})


@endpoint()
def create_register_child(page: Page, organisation_id: str) -> Response:
    try:
        child_id = service.save_child(page.db, page.portal.vault, page.requester(), page.user,
                                      page.now, organisation_id, None, page.form)
    except InvalidInput as invalid:
        organisation = service.organisation_for_form(page.db, page.requester(), page.user,
                                                     page.now, organisation_id)
        return page.render("register/child_form.html", status=400, organisation=organisation,
                           child=None, errors=invalid.errors, values=dict(page.form))
    return page.redirect(f"/register/{organisation_id}/children/{child_id}")


@endpoint()
def show_register_child(page: Page, organisation_id: str, child_id: str) -> Response:
    return _child_page(page, organisation_id, child_id, errors={}, values={})


def _child_page(page: Page, organisation_id: str, child_id: str, errors: dict[str, str],
                values: dict[str, str], status: int = 200) -> Response:
    organisation, child = service.child_page(page.db, page.portal.vault, page.requester(),
                                             page.user, page.now, organisation_id, child_id)
    # What was typed wins; the other form on the page keeps the stored values.
    values = {"leerlingnummer": child.pupil_number, "naam": child.name,
              "geboortedatum": child.birthdate.strftime("%d-%m-%Y"), "groep": child.group,
              **values}
    return page.render("register/child.html", status=status, organisation=organisation,
                       child=child, errors=errors, values=values)


@endpoint()
def update_register_child(page: Page, organisation_id: str, child_id: str) -> Response:
    try:
        service.save_child(page.db, page.portal.vault, page.requester(), page.user, page.now,
                           organisation_id, child_id, page.form)
    except InvalidInput as invalid:
        return _child_page(page, organisation_id, child_id, invalid.errors, dict(page.form),
                           status=400)
    return page.redirect(f"/register/{organisation_id}/children/{child_id}")


@endpoint()
def deactivate_register_child(page: Page, organisation_id: str, child_id: str) -> Response:
    service.deactivate_child(page.db, page.portal.vault, page.requester(), page.user, page.now,
                             organisation_id, child_id)
    return page.redirect(f"/register/{organisation_id}")


@endpoint()
def add_register_adult(page: Page, organisation_id: str, child_id: str) -> Response:
    try:
        service.add_adult(page.db, page.portal.vault, page.requester(), page.user, page.now,
                          organisation_id, child_id, page.form)
    except InvalidInput as invalid:
        return _child_page(page, organisation_id, child_id, invalid.errors, dict(page.form),
                           status=400)
    return page.redirect(f"/register/{organisation_id}/children/{child_id}#adults")


@endpoint(upload=True)
def preview_register_import(page: Page, organisation_id: str) -> Response:
    # No file, a broken-off upload or an oversized one reads as an empty file.
    data = _uploaded(page)
    plan = service.import_preview(page.db, page.portal.vault, page.requester(), page.user,
                                  page.now, organisation_id, data)
    return _import_page(page, organisation_id, plan, data)


@endpoint()
def commit_register_import(page: Page, organisation_id: str) -> Response:
    data = page.form.get("csv", "").encode("utf-8")
    plan = service.import_commit(page.db, page.portal.vault, page.requester(), page.user,
                                 page.now, organisation_id, data)
    if not plan.ok:
        return _import_page(page, organisation_id, plan, data, status=400)
    counts = plan.counts()
    return page.redirect(f"/register/{organisation_id}?klaar={counts['add']}-{counts['update']}"
                         f"-{counts['unchanged']}")


def _import_page(page: Page, organisation_id: str, plan: Plan, data: bytes,
                 status: int = 200) -> Response:
    text = data.decode("utf-8-sig") if plan.file_error is None else ""
    return page.render("register/import.html", status=status if plan.ok else 400,
                       organisation_id=organisation_id, plan=plan, counts=plan.counts(),
                       csv_text=text)


def _uploaded(page: Page) -> bytes:
    upload = page.upload
    if upload is None:
        return b""
    data = bytearray()
    try:
        for chunk in upload.chunks():
            data += chunk
            if len(data) > MAX_IMPORT_BYTES:
                return b""
    except UploadError:
        return b""
    return bytes(data)

routes = [
    Route("/register", register_index),
    Route("/register/{organisation_id}", show_register),
    Route("/register/{organisation_id}/children/new", new_register_child),
    Route("/register/{organisation_id}/children/new", create_register_child, methods=["POST"]),
    Route("/register/{organisation_id}/children/{child_id}", show_register_child),
    Route("/register/{organisation_id}/children/{child_id}", update_register_child,
          methods=["POST"]),
    Route("/register/{organisation_id}/children/{child_id}/deactivate",
          deactivate_register_child, methods=["POST"]),
    Route("/register/{organisation_id}/children/{child_id}/adults", add_register_adult,
          methods=["POST"]),
    Route("/register/{organisation_id}/import", preview_register_import, methods=["POST"],
          max_body_size=MAX_IMPORT_BYTES + 1024 * 1024),
    Route("/register/{organisation_id}/import/commit", commit_register_import,
          methods=["POST"]),
]
