"""The administrator chooses, per organisation, which roles may invoke a legal ground."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.admin.models import GroundRoleChange
from portal.audit.models import AccessRecord
from portal.consent.models import CaseGround, OrganisationGroundRole
from portal.people.models import Membership, Role
from tests.consent._portal import org, person
from tests.consent.test_grounds_portal import SAM_CASE, invoke
from tests.consent.test_portal import FORM, form_body, logged_in, reads
from tests.harness import PortalClient, Running

HET_BAKEN = org("het-baken")
HET_LICHTPUNT = org("het-lichtpunt")
SAM_CASE_GROUND = ("meldrecht_veilig_thuis", [f"person:{person('ib')}"], ["health"])


def save_roles(admin: PortalClient, organisation_id: str, roles: list[str]) -> object:
    admin.page("/admin/ground-roles")
    pairs = [("csrf_token", admin.csrf), ("organisation_id", organisation_id),
             *(("roles", role) for role in roles)]
    return admin.post("/admin/ground-roles", content=form_body(pairs), headers=FORM)


def test_a_role_removed_by_the_administrator_can_no_longer_invoke_a_ground(
        running_sqlite: Running) -> None:
    running = running_sqlite
    # By default the care coordinator (the demo case's chair) may invoke a ground.
    chair = logged_in(running, "ib")
    assert invoke(chair, *SAM_CASE_GROUND).status_code == 200
    assert reads(running, "ib", SAM_CASE, "health")

    admin = logged_in(running, "beheerder")
    overview = admin.page("/admin")
    assert 'href="/admin/ground-roles"' in overview.text
    page = admin.page("/admin/ground-roles")
    assert page.status_code == 200
    assert "Wie een wettelijke grondslag mag inroepen" in page.text
    assert "Scholengemeenschap Het Baken" in page.text
    assert "Beheer MDO-portaal" not in page.text  # the operator's own: no cases, no grounds
    assert "Nog niets gekozen: de standaardrollen gelden." in page.text
    assert re.search(r'<label for="role-1-care_coordinator"[^>]*>'
                     r"Intern begeleider / zorgcoördinator", page.text)
    assert 'value="care_coordinator" checked' in page.text  # the defaults, ticked
    assert 'value="dpo"' not in page.text and 'value="admin"' not in page.text

    saved = save_roles(admin, HET_BAKEN, ["school_leader", "youth_care_worker"])
    assert saved.status_code == 200  # type: ignore[attr-defined]
    assert "vanaf nu mogen alleen deze rollen" in saved.text  # type: ignore[attr-defined]
    assert "Laatst gewijzigd op" in saved.text and "Anton Kramer" in saved.text  # type: ignore[attr-defined]

    # The care coordinator is refused now (on the next request), and nothing was invoked.
    before = grounds_count(running)
    refused = invoke(chair, "ots", ["role:youth_protector"], ["health"])
    assert refused.status_code == 403
    assert grounds_count(running) == before
    with running.portal.sessions() as db:
        configured = sorted(db.scalars(select(OrganisationGroundRole.role).where(
            OrganisationGroundRole.organisation_id == HET_BAKEN)))
        change = db.scalars(select(GroundRoleChange)).one()
        written = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "admin.ground_roles.update")).one()
        denied = db.scalars(select(AccessRecord.reason).where(
            AccessRecord.event_type == "ground.invoke",
            AccessRecord.outcome == "denied")).all()
    assert configured == ["school_leader", "youth_care_worker"]
    assert (change.organisation_id, change.roles, change.changed_by) == (
        HET_BAKEN, "school_leader,youth_care_worker", person("beheerder"))
    assert (written.outcome, written.action_code, written.object_id, written.user_id) == (
        "allowed", "U", HET_BAKEN, person("beheerder"))
    assert denied == ["ground_role_not_allowed"]

    # Given back, the role may invoke again.
    assert save_roles(admin, HET_BAKEN, ["care_coordinator"]).status_code == 200  # type: ignore[attr-defined]
    assert invoke(chair, "ots", ["role:youth_protector"], ["health"]).status_code == 200


def grounds_count(running: Running) -> int:
    with running.portal.sessions() as db:
        return len(db.scalars(select(CaseGround.id)).all())


def test_the_form_validates_and_only_an_organisations_administrator_uses_it(
        running_sqlite: Running) -> None:
    running = running_sqlite
    admin = logged_in(running, "beheerder")
    empty = save_roles(admin, HET_BAKEN, [])
    assert empty.status_code == 400  # type: ignore[attr-defined]
    assert 'id="roles-error">Kies minstens één rol' in empty.text  # type: ignore[attr-defined]
    for forbidden in (["dpo"], ["admin", "mentor"], ["nobody"]):
        assert save_roles(admin, HET_BAKEN, forbidden).status_code == 400  # type: ignore[attr-defined]
    # The portal's own organisation and an unknown one are not found.
    assert save_roles(admin, org("portaalbeheer"), ["mentor"]).status_code == 404  # type: ignore[attr-defined]
    assert save_roles(admin, "x" * 36, ["mentor"]).status_code == 404  # type: ignore[attr-defined]

    mentor = logged_in(running, "mentor")
    assert mentor.get("/admin/ground-roles").status_code == 403
    assert save_roles(mentor, HET_BAKEN, ["mentor"]).status_code == 403  # type: ignore[attr-defined]

    # An administrator of Het Lichtpunt configures Het Lichtpunt, not Het Baken. (Given
    # after the login, which sets the memberships the identity provider's claims name.)
    local = logged_in(running, "ib-lichtpunt")
    with running.portal.sessions() as db:
        db.add(Membership(person_id=person("ib-lichtpunt"), organisation_id=HET_LICHTPUNT,
                          role=Role.ADMIN))
        db.commit()
    page = local.page("/admin/ground-roles")
    assert "Basisschool Het Lichtpunt" in page.text
    assert "Scholengemeenschap Het Baken" not in page.text
    assert save_roles(local, HET_BAKEN, ["mentor"]).status_code == 404  # type: ignore[attr-defined]
    assert save_roles(local, HET_LICHTPUNT, ["mentor"]).status_code == 200  # type: ignore[attr-defined]

    with running.portal.sessions() as db:
        assert db.scalars(select(OrganisationGroundRole.organisation_id).distinct()).all() \
            == [HET_LICHTPUNT]
        outcomes = db.scalars(select(AccessRecord.outcome).where(
            AccessRecord.event_type == "admin.ground_roles.update")
            .order_by(AccessRecord.seq)).all()
    # Refused input writes nothing; refused people and organisations are recorded.
    assert outcomes == ["denied", "denied", "denied", "denied", "allowed"]
