"""The staff lifecycle through a certified OpenID Provider (panva's oidc-provider).

Its accounts all claim ``org: het-baken``, ``roles: [ib]`` and the e-mail
``<login>@het-baken.example``; the portal trusts it for Het Baken and Het
Lichtpunt. Real authorization-code logins, real signed ID tokens.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from auth.config import IdentityProviderConfig
from conftest import StartPortal
from portal.cases.models import Case, CaseParticipant, CaseRole
from portal.demo import stable_id
from portal.people.models import Membership, Person, Role
from portal.settings_env import scim_organisation
from tests.harness import bind_socket
from tests.interop.op import require_node, start_op, stop_op
from tests.interop.test_oidc_provider import (
    CLIENT_ID,
    PROVIDER_ID,
    Interop,
    log_in,
)

pytestmark = pytest.mark.interop

BAKEN, LICHTPUNT = stable_id("org", "het-baken"), stable_id("org", "het-lichtpunt")
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture
def op(sqlite_url: str, start_portal: StartPortal, tmp_path: Path) -> Iterator[Interop]:
    require_node()
    sock = bind_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    secret = secrets.token_urlsafe(32)
    try:
        process, issuer = start_op({
            "client_id": CLIENT_ID, "client_secret": secret,
            "redirect_uri": f"{base}/auth/callback",
            "post_logout_redirect_uri": f"{base}/logged-out"}, tmp_path / "op.log")
    except BaseException:
        sock.close()
        raise
    try:
        provider = IdentityProviderConfig(
            id=PROVIDER_ID, issuer=issuer, client_id=CLIENT_ID, client_secret=secret,
            label="Schoolbestuur", kind="professional",
            organisations=("het-baken", "het-lichtpunt"), org_claim="org",
            role_claim="roles", role_map={"ib": "care_coordinator"},
            scopes=("openid", "profile", "email", "mdo"))
        running = start_portal(sqlite_url, sock=sock, dev_idp=False,
                               identity_providers=(provider,),
                               scim_organisations=(scim_organisation(
                                   "het-baken", {"token": "t" * 40}),))
        yield Interop(issuer=issuer, running=running)
    finally:
        stop_op(process)


def test_a_move_to_another_school_ends_the_old_membership_and_its_cases(op: Interop) -> None:
    running = op.running
    first, landed = log_in(op, "tamara")
    assert landed.url.path == "/"
    with running.portal.sessions() as db, db.begin():
        person = db.scalars(select(Person).where(Person.subject == "tamara")).one()
        # Before the move she was a care coordinator at Het Lichtpunt, in one of its cases.
        db.add(Membership(person_id=person.id, organisation_id=LICHTPUNT,
                          role=Role.CARE_COORDINATOR))
        case = db.scalars(select(Case)).first()
        assert case is not None
        db.add(CaseParticipant(case_id=case.id, person_id=person.id,
                               organisation_id=LICHTPUNT, capacity_role="care_coordinator",
                               case_role=CaseRole.PARTICIPANT,
                               added_at=datetime.now(UTC), added_by=person.id))
        person_id, case_id = person.id, case.id

    # Her directory now names only Het Baken: the next login ends Het Lichtpunt.
    _, again = log_in(op, "tamara")
    assert again.url.path == "/"
    with running.portal.sessions() as db:
        assert {(m.organisation_id, m.role) for m in db.scalars(
            select(Membership).where(Membership.person_id == person_id))} == {
            (BAKEN, Role.CARE_COORDINATOR)}
        assert not db.scalars(select(CaseParticipant).where(
            CaseParticipant.case_id == case_id, CaseParticipant.person_id == person_id)).all()
    assert first.get("/cases").url.path == "/login", "her earlier session ended"


def test_a_directory_account_is_bound_at_its_first_login(op: Interop) -> None:
    running = op.running
    scim = httpx.Client(base_url=f"{running.base_url}/scim/v2", timeout=20,
                        headers={"Authorization": f"Bearer {'t' * 40}"})
    with scim:
        created = scim.post("/Users", json={"schemas": [USER],
                                            "userName": "Bram@het-baken.example",
                                            "displayName": "Bram de Boer"})
        assert created.status_code == 201, created.text
        user_id = created.json()["id"]
        assert scim.post("/Groups", json={"schemas": [GROUP], "displayName": "mentor",
                                          "members": [{"value": user_id}]}).status_code == 201
    _, landed = log_in(op, "bram")
    assert landed.url.path == "/"
    with running.portal.sessions() as db:
        bound = db.scalars(select(Person).where(Person.subject == "bram")).one()
        roles = set(db.scalars(select(Membership.role).where(
            Membership.person_id == bound.id)))
    assert (bound.id, bound.idp) == (user_id, PROVIDER_ID)
    # The directory's groups decide her roles here, not the login's "ib" claim.
    assert roles == {Role.MENTOR}
