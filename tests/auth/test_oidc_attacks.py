"""Each way an identity provider's answer can be wrong is refused, shown and logged."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from auth.config import IdentityProviderConfig
from conftest import StartPortal
from portal.audit.models import AccessRecord
from tests.auth.rogue_op import CLIENT_ID, CLIENT_SECRET, RogueProvider
from tests.harness import Running, parse_forms


@pytest.fixture
def portal(rogue: RogueProvider, sqlite_url: str, start_portal: StartPortal) -> Running:
    config = IdentityProviderConfig(
        id="rogue", issuer=rogue.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        label="Rogue", kind="professional", organisations=("het-baken",),
        role_map={"ib": "care_coordinator"})
    return start_portal(sqlite_url, identity_providers=(config,))


def failed_logins(running: Running) -> list[str | None]:
    with running.portal.sessions() as db:
        return list(db.scalars(select(AccessRecord.reason).where(
            AccessRecord.event_type == "auth.login", AccessRecord.outcome == "failed")))


def test_an_honest_answer_logs_in(portal: Running) -> None:
    client = portal.client()
    response = client.get("/login/rogue")
    assert response.status_code == 200
    assert response.url.path == "/"
    assert "Rita Rogue" in response.text


@pytest.mark.parametrize(("fault", "code"), [
    ("discovery_issuer", "issuer_mismatch"),
    ("iss_param", "iss_mismatch"),
    ("iss_param_missing", "iss_missing"),
    ("bad_signature", "bad_signature"),
    ("bad_iss", "bad_iss"),
    ("bad_aud", "bad_aud"),
    ("azp_missing", "bad_azp"),
    ("azp_wrong", "bad_azp"),
    ("bad_nonce", "bad_nonce"),
    ("expired", "expired"),
    ("alg_none", "bad_algorithm"),
    ("hs256", "bad_algorithm"),
    ("unknown_key", "unknown_key"),
])
def test_a_lying_provider_is_refused(portal: Running, rogue: RogueProvider, fault: str,
                                     code: str) -> None:
    rogue.fault = fault
    client = portal.client()
    response = client.get("/login/rogue")
    assert response.status_code == 400
    assert "Inloggen mislukt" in response.text and code in response.text
    assert "eyJ" not in response.text, "no token may be echoed"
    assert failed_logins(portal) == [code]
    assert str(client.get("/cases").url).split("?")[0].endswith("/login")


def test_an_organisation_the_provider_does_not_vouch_for_is_refused(
        portal: Running, rogue: RogueProvider) -> None:
    rogue.claims["org"] = "jeugdhulp-noord"
    response = portal.client().get("/login/rogue")
    assert response.status_code == 400
    assert failed_logins(portal) == ["organisation_not_vouched"]


def test_unmapped_roles_grant_nothing(portal: Running, rogue: RogueProvider) -> None:
    rogue.claims["roles"] = ["superuser"]
    assert portal.client().get("/login/rogue").status_code == 400
    assert failed_logins(portal) == ["no_role"]


def test_a_callback_with_a_foreign_state_is_refused(portal: Running) -> None:
    client = portal.client()
    response = client.get("/auth/callback", params={"code": "x", "state": "made-up"})
    assert response.status_code == 400
    assert failed_logins(portal) == ["unknown_state"]


def test_a_replayed_callback_is_refused(running: Running) -> None:
    client = running.client()
    client.login("mentor")
    callback = next(r for r in client.history_of_last_login if "/auth/callback" in str(r.url))
    replay = running.client().get(str(callback.url))
    assert replay.status_code == 400


def test_two_logins_in_parallel_tabs_both_succeed(running: Running) -> None:
    client = running.client()
    first = client.get("/login/dev", follow_redirects=False).headers["location"]
    second = client.get("/login/dev", follow_redirects=False).headers["location"]
    for authorize_url, persona in ((first, "mentor"), (second, "ib")):
        picker = client.get(authorize_url)
        form = next(f for f in parse_forms(picker.text) if f["buttons"])
        landed = client.post(str(picker.url.join(form["action"])),
                             data={**form["fields"], "persona": persona})
        assert landed.status_code == 200, landed.text
        assert landed.url.path == "/"
    assert "Ilse Bakker" in client.get("/cases").text
