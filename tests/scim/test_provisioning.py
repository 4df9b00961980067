"""A directory provisions, changes and deactivates staff; tokens keep organisations apart."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
from sqlalchemy import select, update

from portal.audit.models import AccessRecord
from portal.cases.models import CaseParticipant
from portal.demo import stable_id
from portal.people.models import Membership, Person, Role
from portal.scim.models import ScimUser
from portal.staff.lifecycle import CHAIR_SUBJECT
from portal.staff.models import ChairVacancy
from tests.harness import PortalClient, Running
from tests.scim.conftest import SCHOOL_A, SCHOOL_B, Scim
from tests.web.test_fail_closed import break_access_records

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CASE_URL = re.compile(r"/cases/([0-9a-f-]{36})$")


def create_user(http: httpx.Client, user_name: str, **extra: Any) -> str:
    response = http.post("/Users", json={"schemas": [USER], "userName": user_name, **extra})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def create_group(http: httpx.Client, name: str, members: list[str]) -> str:
    response = http.post("/Groups", json={"schemas": [GROUP], "displayName": name,
                                          "members": [{"value": m} for m in members]})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def set_active(http: httpx.Client, user_id: str, active: bool) -> httpx.Response:
    return http.patch(f"/Users/{user_id}", json={
        "schemas": [PATCH], "Operations": [{"op": "replace", "path": "active",
                                            "value": active}]})


def test_a_missing_or_wrong_token_is_refused_and_recorded(scim_sqlite: Scim) -> None:
    scim = scim_sqlite
    for http in (scim.http(None), scim.http(token="not-a-token"),
                 scim.http(token=scim.tokens[SCHOOL_A] + "x")):
        response = http.get("/Users")
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert http.post("/Users", json={"schemas": [USER], "userName": "x"}).status_code == 401
    # The service provider configuration is public (RFC 7643 §5); nothing else is.
    assert scim.http(None).get("/ServiceProviderConfig").status_code == 200
    assert scim.http(None).get("/Schemas").status_code == 401
    with scim.running.portal.sessions() as db:
        failed = db.scalars(select(AccessRecord).where(AccessRecord.event_type == "scim.auth",
                                                       AccessRecord.outcome == "failed")).all()
    assert len(failed) == 7


def test_one_organisation_cannot_touch_another_organisations_users(scim: Scim) -> None:
    a, b = scim.http(SCHOOL_A), scim.http(SCHOOL_B)
    user_id = create_user(b, "leraar@lichtpunt.test", emails=[{"value": "leraar@lichtpunt.test"}])
    assert b.get(f"/Users/{user_id}").status_code == 200
    assert a.get(f"/Users/{user_id}").status_code == 404
    assert set_active(a, user_id, False).status_code == 404
    assert a.put(f"/Users/{user_id}", json={"schemas": [USER],
                                            "userName": "overgenomen"}).status_code == 404
    assert a.delete(f"/Users/{user_id}").status_code == 404
    assert a.get("/Users", params={"filter": 'userName eq "leraar@lichtpunt.test"'}) \
        .json()["totalResults"] == 0
    # Nor put them in its own groups (which would give them a role at school A).
    refused = a.post("/Groups", json={"schemas": [GROUP], "displayName": "mentor",
                                      "members": [{"value": user_id}]})
    assert refused.status_code == 400
    with scim.running.portal.sessions() as db:
        person = db.get_one(Person, user_id)
        assert person.active and person.display_name == "leraar@lichtpunt.test"
        assert not db.scalars(select(Membership).where(Membership.person_id == user_id)).all()
    # The same user name is free at another organisation (each directory its own).
    create_user(a, "leraar@lichtpunt.test")


def test_groups_give_roles_but_never_the_operators_roles(scim_sqlite: Scim) -> None:
    http = scim_sqlite.http(SCHOOL_A)
    user_id = create_user(http, "ib@baken.test")
    create_group(http, "MDO Intern begeleiders", [user_id])  # configured name
    create_group(http, "mentor", [user_id])  # named like the role
    create_group(http, "admin", [user_id])  # a school cannot make a portal admin
    create_group(http, "Sportdag", [user_id])  # maps to nothing
    with scim_sqlite.running.portal.sessions() as db:
        roles = set(db.scalars(select(Membership.role).where(Membership.person_id == user_id)))
    assert roles == {Role.CARE_COORDINATOR, Role.MENTOR}
    listed = http.get(f"/Users/{user_id}").json()
    assert {g["display"] for g in listed["groups"]} == {
        "MDO Intern begeleiders", "mentor", "admin", "Sportdag"}


def _provisioned_mentor(running: Running, http: httpx.Client) -> tuple[str, PortalClient]:
    """Olga, mentor at school B, provisioned by B's directory and bound at her first login."""
    with running.portal.sessions() as db, db.begin():
        # Her demo account goes, so the directory's is the only one her login can reach.
        db.execute(update(Person).where(Person.id == stable_id("person", "buitenstaander"))
                   .values(idp=None, subject=None, active=False))
    user_id = create_user(http, "olga@lichtpunt.test", externalId="buitenstaander",
                          name={"givenName": "Olga", "familyName": "Peters"})
    create_group(http, "mentor", [user_id])
    olga = running.client()
    assert olga.login("buitenstaander").url.path == "/"
    with running.portal.sessions() as db:
        person = db.get_one(Person, user_id)
        assert (person.idp, person.subject) == ("dev", "buitenstaander")
    return user_id, olga


def _anonymous_case(client: PortalClient) -> str:
    client.page("/cases/new")
    created = client.submit("/cases", {"anonymous": "on", "title": "Overleg groep 5",
                                       "purpose": "Afstemmen wat de klas nodig heeft",
                                       "legal_basis": "consent"})
    match = CASE_URL.search(str(created.url))
    assert match, created.text
    return match.group(1)


def test_deactivation_over_scim_logs_out_and_takes_the_person_off_cases(scim: Scim) -> None:
    running, http = scim.running, scim.http(SCHOOL_B)
    coordinator = create_user(http, "ib@lichtpunt.test",
                              emails=[{"value": "ib@lichtpunt.test", "primary": True}])
    create_group(http, "care_coordinator", [coordinator])
    olga_id, olga = _provisioned_mentor(running, http)
    case_id = _anonymous_case(olga)
    assert olga.get(f"/cases/{case_id}").status_code == 200

    assert set_active(http, olga_id, False).status_code in (200, 204)

    # The very next request of her open session is anonymous again.
    assert olga.get(f"/cases/{case_id}").url.path == "/login"
    assert running.client().login("buitenstaander").status_code == 400
    with running.portal.sessions() as db:
        assert not db.scalars(select(CaseParticipant).where(
            CaseParticipant.person_id == olga_id)).all()
        vacancy = db.get_one(ChairVacancy, case_id)
        assert vacancy.left_person_id == olga_id
        events = set(db.scalars(select(AccessRecord.event_type).where(
            AccessRecord.object_id == olga_id)))
    assert {"staff.account.deactivate", "staff.case.leave", "scim.user.update"} <= events
    # Every care coordinator of school B is told (content-free), the one just
    # provisioned by the directory too; the person who left is not.
    with running.portal.sessions() as db:
        coordinators = set(db.scalars(select(Person.email).join(
            Membership, Membership.person_id == Person.id).where(
            Membership.organisation_id == stable_id("org", SCHOOL_B),
            Membership.role == Role.CARE_COORDINATOR,
            Person.active.is_(True), Person.id != olga_id)))
    assert "ib@lichtpunt.test" in coordinators
    notices = _wait_for_mail(running, CHAIR_SUBJECT, len(coordinators))
    assert sorted(r for n in notices for r in n.recipients) == sorted(coordinators)
    for notice in notices:
        assert f"/cases/{case_id}/chair" in notice.body
        for content in ("groep 5", "Afstemmen", "Olga", "Peters", "Lichtpunt"):
            assert content not in notice.body and content not in notice.subject


def test_deleting_a_user_over_scim_deactivates_them(scim_sqlite: Scim) -> None:
    running, http = scim_sqlite.running, scim_sqlite.http(SCHOOL_B)
    olga_id, olga = _provisioned_mentor(running, http)
    assert http.delete(f"/Users/{olga_id}").status_code == 204
    assert olga.get("/cases").url.path == "/login"
    assert http.get(f"/Users/{olga_id}").status_code == 404
    with running.portal.sessions() as db:
        assert not db.get_one(Person, olga_id).active
        assert not db.scalars(select(Membership).where(Membership.person_id == olga_id)).all()
        events = set(db.scalars(select(AccessRecord.event_type).where(
            AccessRecord.object_id == olga_id)))
    assert {"staff.membership.end", "staff.account.deactivate", "scim.user.delete"} <= events


def test_leaving_the_last_group_ends_the_membership(scim_sqlite: Scim) -> None:
    running, http = scim_sqlite.running, scim_sqlite.http(SCHOOL_B)
    olga_id, olga = _provisioned_mentor(running, http)
    case_id = _anonymous_case(olga)
    group_id = http.get("/Groups", params={"filter": 'displayName eq "mentor"'}) \
        .json()["Resources"][0]["id"]
    emptied = http.patch(f"/Groups/{group_id}", json={
        "schemas": [PATCH], "Operations": [{"op": "remove", "path": "members"}]})
    assert emptied.status_code in (200, 204), emptied.text
    assert olga.get(f"/cases/{case_id}").url.path == "/login"
    with running.portal.sessions() as db:
        assert db.get_one(Person, olga_id).active, "the account stays; the membership ended"
        assert not db.scalars(select(CaseParticipant).where(
            CaseParticipant.person_id == olga_id)).all()


def _wait_for_mail(running: Running, subject: str, count: int) -> list[Any]:
    deadline = time.monotonic() + 20
    while True:
        running.portal.mail.poke()
        found = [m for m in running.portal.mail_catcher.snapshot() if m.subject == subject]
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, "the chair notice did not arrive"
        time.sleep(0.1)


def test_no_access_record_no_change(scim_sqlite: Scim, caplog: Any) -> None:
    """A SCIM write whose access record cannot be written changes nothing (503)."""
    http = scim_sqlite.http(SCHOOL_A)
    user_id = create_user(http, "fenna@baken.test")
    break_access_records(scim_sqlite.running)
    response = set_active(http, user_id, False)
    assert response.status_code == 503
    assert "fenna" not in caplog.text, "no values in the log"
    with scim_sqlite.running.portal.sessions() as db:
        assert db.get_one(Person, user_id).active


def test_what_the_portal_does_not_keep_is_dropped_not_stored(scim_sqlite: Scim) -> None:
    enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    http = scim_sqlite.http(SCHOOL_A)
    created = http.post("/Users", json={
        "schemas": [USER, enterprise], "userName": "k.smit@baken.test", "title": "Docent",
        "phoneNumbers": [{"value": "0612345678", "type": "mobile"}],
        "addresses": [{"streetAddress": "Kerkstraat 1"}],
        enterprise: {"employeeNumber": "4711"},
        "name": {"givenName": "Karin", "familyName": "Smit", "middleName": "de"}})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["schemas"] == [USER] and body["name"] == {"givenName": "Karin",
                                                          "familyName": "Smit"}
    with scim_sqlite.running.portal.sessions() as db:
        stored = db.get_one(ScimUser, body["id"]).resource
        person = db.get_one(Person, body["id"])
    for dropped in ("0612345678", "Kerkstraat", "4711", "Docent", "middleName"):
        assert dropped not in stored
    assert person.display_name == "Karin Smit"
    # Malformed or incomplete requests are refused and change nothing.
    assert http.post("/Users", content=b"{not json").status_code == 400
    missing = http.post("/Users", json={"schemas": [USER], "displayName": "Zonder naam"})
    assert missing.status_code == 400 and "userName" in missing.json()["detail"]
    duplicate = http.post("/Users", json={"schemas": [USER], "userName": "K.Smit@baken.test"})
    assert duplicate.status_code == 409, "userName is unique per organisation, ignoring case"
    assert http.get("/Users").json()["totalResults"] == 1


def test_lookups_by_user_name_external_id_and_group_name(scim_sqlite: Scim) -> None:
    http = scim_sqlite.http(SCHOOL_A)
    first = create_user(http, "Jan.Jansen@baken.test", externalId="oid-1")
    create_user(http, "piet@baken.test", externalId="OID-1")
    create_group(http, "Mentoren", [first])

    def found(path: str, scim_filter: str) -> list[str]:
        body = http.get(path, params={"filter": scim_filter}).json()
        assert body["totalResults"] == len(body.get("Resources", []))
        return [r["id"] for r in body.get("Resources", [])]

    assert found("/Users", 'userName eq "jan.jansen@BAKEN.test"') == [first]
    assert found("/Users", 'externalId eq "oid-1"') == [first], "externalId is case-exact"
    assert found("/Users", 'userName eq "nobody@baken.test"') == []
    assert len(found("/Groups", 'displayName eq "mentoren"')) == 1
    assert len(found("/Users", 'userName sw "j"')) == 1


def test_a_reactivated_user_can_log_in_again_with_their_roles(scim_sqlite: Scim) -> None:
    running, http = scim_sqlite.running, scim_sqlite.http(SCHOOL_B)
    olga_id, olga = _provisioned_mentor(running, http)
    assert set_active(http, olga_id, False).status_code in (200, 204)
    assert http.get(f"/Users/{olga_id}").json()["active"] is False
    assert olga.get("/cases").url.path == "/login"
    assert set_active(http, olga_id, True).status_code in (200, 204)
    again = running.client()
    assert again.login("buitenstaander").url.path == "/"
    with running.portal.sessions() as db:
        assert set(db.scalars(select(Membership.role).where(
            Membership.person_id == olga_id))) == {Role.MENTOR}


def test_deleting_a_group_takes_its_role_away(scim_sqlite: Scim) -> None:
    http = scim_sqlite.http(SCHOOL_A)
    user_id = create_user(http, "wim@baken.test")
    mentors = create_group(http, "mentor", [user_id])
    create_group(http, "school_leader", [user_id])
    assert http.delete(f"/Groups/{mentors}").status_code == 204
    assert http.get(f"/Groups/{mentors}").status_code == 404
    with scim_sqlite.running.portal.sessions() as db:
        roles = set(db.scalars(select(Membership.role).where(Membership.person_id == user_id)))
    assert roles == {Role.SCHOOL_LEADER}
    assert [g["display"] for g in http.get(f"/Users/{user_id}").json()["groups"]] == [
        "school_leader"]
