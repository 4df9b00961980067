"""The register over HTTP: who gets what (anonymous, outsider 404, colleague 403), forms, upload."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from sqlalchemy import select

from portal.demo import stable_id
from portal.people.models import Enrolment
from tests.harness import PortalClient, Running
from tests.register.helpers import BAKEN, CLASS, MOTHER, csv_bytes, pupil

REGISTER = f"/register/{BAKEN}"
SAM = stable_id("child", "sam")


def logged_in(running: Running, persona: str) -> PortalClient:
    client = running.client()
    client.login(persona)
    return client


def upload(client: PortalClient, path: str, data: bytes) -> httpx.Response:
    response = client.post(path, data={"csrf_token": client.csrf},
                           files={"file": ("leerlingen.csv", data, "text/csv")})
    client.refresh_csrf(response.text)
    return response


PAGES = [REGISTER, f"{REGISTER}/children/new", f"{REGISTER}/children/{SAM}"]


@pytest.mark.parametrize("path", ["/register", *PAGES])
def test_anonymous_visitors_are_sent_to_log_in(running_sqlite: Running, path: str) -> None:
    response = running_sqlite.client().get(path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.mark.parametrize("path", PAGES)
def test_an_outsider_does_not_learn_the_register_exists(running_sqlite: Running,
                                                        path: str) -> None:
    for persona in ("buitenstaander", "ib-lichtpunt", "jeugdhulp", "ouder1", "beheerder"):
        response = logged_in(running_sqlite, persona).get(path)
        assert response.status_code == 404, persona
        assert "Sam Mulder" not in response.text


@pytest.mark.parametrize("path", PAGES)
def test_a_colleague_without_the_role_is_refused(running_sqlite: Running, path: str) -> None:
    for persona in ("mentor", "schoolleider", "notulist"):
        response = logged_in(running_sqlite, persona).get(path)
        assert response.status_code == 403, persona
        assert "Sam Mulder" not in response.text


def test_writes_are_refused_the_same_way(running_sqlite: Running) -> None:
    mentor = logged_in(running_sqlite, "mentor")
    mentor.page("/cases")
    assert mentor.submit(f"{REGISTER}/children/{SAM}/deactivate").status_code == 403
    outsider = logged_in(running_sqlite, "ib-lichtpunt")
    outsider.page("/cases")
    assert outsider.submit(f"{REGISTER}/children/{SAM}/deactivate").status_code == 404
    assert upload(outsider, f"{REGISTER}/import", csv_bytes(CLASS)).status_code == 404
    assert outsider.submit(f"{REGISTER}/import/commit",
                           {"csv": csv_bytes(CLASS).decode()}).status_code == 404


def test_wrong_methods_are_405(running_sqlite: Running) -> None:
    ib = logged_in(running_sqlite, "ib")
    assert ib.delete(REGISTER).status_code == 405
    assert ib.get(f"{REGISTER}/import").status_code == 405


def test_the_care_coordinator_keeps_the_register(running: Running) -> None:
    ib = logged_in(running, "ib")
    assert "/register" in ib.page("/cases").text  # the menu offers it
    listed = ib.page("/register")
    assert listed.status_code == 200 and "Sam Mulder" in listed.text and "1001" in listed.text
    assert "Leerlingregister" in listed.text
    found = ib.page(f"{REGISTER}?leerlingnummer=1002")
    assert "Noor Haddad" in found.text and "Sam Mulder" not in found.text
    child = ib.page(f"{REGISTER}/children/{SAM}")
    assert "Petra Mulder" in child.text and f"/children/{SAM}/custody" in child.text


def test_the_form_refuses_bad_input_naming_the_field_and_keeping_it(
        running_sqlite: Running) -> None:
    ib = logged_in(running_sqlite, "ib")
    ib.page(f"{REGISTER}/children/new")
    refused = ib.submit(f"{REGISTER}/children/new", {"leerlingnummer": "1001", "naam": "Tess Bos",
                                                  "geboortedatum": "30-02-2016", "groep": "4"})
    assert refused.status_code == 400
    assert 'aria-invalid="true" aria-describedby="geboortedatum-error"' in refused.text
    assert "Onmogelijke datum" in refused.text and 'value="Tess Bos"' in refused.text
    refused = ib.submit(f"{REGISTER}/children/new", {"leerlingnummer": "1001", "naam": "Tess Bos",
                                                  "geboortedatum": "29-02-2016", "groep": "4"})
    assert refused.status_code == 400 and "al in gebruik" in refused.text
    added = ib.submit(f"{REGISTER}/children/new", {"leerlingnummer": "2001", "naam": "Tess Bos",
                                                "geboortedatum": "29-02-2016", "groep": "4"})
    assert added.status_code == 200 and "Tess Bos" in added.text
    child_path = str(added.url.path)
    edited = ib.submit(child_path, {"leerlingnummer": "2001", "naam": "Tess Bos",
                                    "geboortedatum": "2016-02-29", "groep": "5"})
    assert edited.status_code == 200 and 'value="5"' in edited.text
    adult = ib.submit(f"{child_path}/adults", {"verzorger1_naam": "Tom Bos",
                                               "verzorger1_email": "tom@",
                                               "verzorger1_relatie": "ouder",
                                               "verzorger1_gezag": "ja"})
    assert adult.status_code == 400 and "Ongeldig e-mailadres" in adult.text
    assert 'value="Tom Bos"' in adult.text and 'value="Tess Bos"' in adult.text
    adult = ib.submit(f"{child_path}/adults", {"verzorger1_naam": "Tom Bos",
                                               "verzorger1_email": "tom@example.nl",
                                               "verzorger1_relatie": "ouder",
                                               "verzorger1_gezag": "ja"})
    assert adult.status_code == 200 and "Tom Bos" in adult.text and "ouder met gezag" in adult.text
    gone = ib.submit(f"{child_path}/deactivate")
    assert gone.status_code == 200
    assert re.search(r"Tess Bos</a></td>\s*<td>[^<]*</td>\s*<td>5</td>\s*<td>vertrokken",
                     gone.text)


def test_import_dry_run_then_commit_over_http(running: Running) -> None:
    ib = logged_in(running, "ib")
    ib.page(REGISTER)
    bad = [*CLASS, pupil("504", "Ivo", "31-02-2015"), pupil("501", "Jet", "01-01-2015")]
    checked = upload(ib, f"{REGISTER}/import", csv_bytes(bad, delimiter=",", bom=True))
    assert checked.status_code == 400
    assert "Er is niets opgeslagen" in checked.text and "Nu importeren" not in checked.text
    assert re.search(r"<td>5</td><td>geboortedatum</td><td>Onmogelijke datum", checked.text)
    assert re.search(r"<td>6</td><td>leerlingnummer</td><td>Dubbel leerlingnummer \(ook op "
                     r"regel 2\)", checked.text)
    checked = upload(ib, f"{REGISTER}/import", csv_bytes(CLASS, bom=True))
    assert checked.status_code == 200 and "3 toe te voegen" in checked.text
    assert re.search(r"<dt>Toe te voegen regels</dt><dd>2, 3, 4</dd>", checked.text)
    csv_text = re.search(r'<textarea name="csv"[^>]*>(.*?)</textarea>', checked.text, re.S)
    assert csv_text is not None
    done = ib.submit(f"{REGISTER}/import/commit", {"csv": html.unescape(csv_text.group(1))})
    assert done.status_code == 200 and "Import klaar: 3 toegevoegd" in done.text
    assert "Finn Jansen" in done.text
    with running.portal.sessions() as db:
        assert len(db.scalars(select(Enrolment).where(
            Enrolment.organisation_id == BAKEN)).all()) == 2 + 3


def test_a_non_utf8_file_is_refused_by_name(running_sqlite: Running) -> None:
    ib = logged_in(running_sqlite, "ib")
    ib.page(REGISTER)
    latin1 = "leerlingnummer;naam;geboortedatum\n1;Zoë;01-01-2015\n".encode("latin-1")
    refused = upload(ib, f"{REGISTER}/import", latin1)
    assert refused.status_code == 400 and "geen UTF-8" in refused.text
    empty = upload(ib, f"{REGISTER}/import", b"")
    assert empty.status_code == 400 and "leeg" in empty.text


def test_school_b_sees_only_its_own_pupils(running_sqlite: Running) -> None:
    ib = logged_in(running_sqlite, "ib")
    ib.page(REGISTER)
    other = logged_in(running_sqlite, "ib-lichtpunt")
    lichtpunt = f"/register/{stable_id('org', 'het-lichtpunt')}"
    other.page(lichtpunt)
    upload_b = upload(other, f"{lichtpunt}/import", csv_bytes([
        pupil("L-1", "Wout Jansen", "01-09-2019", "3", MOTHER)]))
    assert upload_b.status_code == 200
    listed = other.page(lichtpunt).text
    assert "Sam Mulder" not in listed and "Noor Haddad" not in listed
    assert other.get(f"{lichtpunt}/children/{SAM}").status_code == 404


def test_the_portal_administrator_keeps_no_register(running_sqlite: Running) -> None:
    admin = logged_in(running_sqlite, "beheerder")
    assert admin.get("/register").status_code == 403
    portal_org = f"/register/{stable_id('org', 'portaalbeheer')}"
    assert admin.get(portal_org).status_code == 404


def test_a_crafted_notice_is_not_shown(running_sqlite: Running) -> None:
    ib = logged_in(running_sqlite, "ib")
    page = ib.page(f"{REGISTER}?klaar=<b>gehackt</b>")
    assert page.status_code == 200 and "gehackt" not in page.text
