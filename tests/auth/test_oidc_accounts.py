"""Accounts are keyed by issuer and subject; every new binding is explicit and logged."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from conftest import StartPortal
from portal.audit.models import AccessRecord
from portal.cli import main
from portal.login.accounts import RebindRefused, rebind
from portal.login.models import OidcAccount
from portal.people.models import Membership, Person, PersonKind
from tests.auth.rogue_op import RogueProvider
from tests.auth.test_oidc_faults import rogue_config
from tests.harness import Running


def start(rogue: RogueProvider, database_url: str, start_portal: StartPortal,
          **overrides: Any) -> Running:
    return start_portal(database_url,
                        identity_providers=(rogue_config(rogue.issuer, **overrides),))


def log_in(running: Running) -> None:
    landed = running.client().get("/login/rogue")
    assert landed.url.path == "/", landed.text


def accounts(running: Running) -> list[tuple[str, str, str]]:
    with running.portal.sessions() as db:
        return [(a.person_id, a.subject, a.bound_by) for a in db.scalars(
            select(OidcAccount).order_by(OidcAccount.bound_at, OidcAccount.bound_by))]


def test_a_changed_subject_follows_the_previous_subject_claim(
        rogue: RogueProvider, database_url: str, start_portal: StartPortal,
        caplog: pytest.LogCaptureFixture) -> None:
    running = start(rogue, database_url, start_portal, previous_subject_claim="legacy_sub")
    log_in(running)
    [(person, _, _)] = accounts(running)

    # The provider switches from public to pairwise subjects and, for the
    # transition, also sends the old one.
    rogue.subject, rogue.claims["legacy_sub"] = "pairwise-7f3a", "rita"
    with caplog.at_level(logging.INFO, logger="portal.login"):
        log_in(running)

    assert sorted(accounts(running)) == sorted([(person, "rita", "login"),
                                                (person, "pairwise-7f3a", "previous_subject")])
    assert f"account rebound: provider=rogue person={person}" in caplog.text
    assert "pairwise-7f3a" not in caplog.text, "subjects stay out of the log"
    # From now on the new subject alone finds the account.
    del rogue.claims["legacy_sub"]
    log_in(running)
    assert len(accounts(running)) == 2


def test_without_a_previous_subject_a_new_subject_is_a_new_person_and_logged(
        rogue: RogueProvider, database_url: str, start_portal: StartPortal,
        caplog: pytest.LogCaptureFixture) -> None:
    running = start(rogue, database_url, start_portal)
    log_in(running)
    rogue.subject, rogue.claims["legacy_sub"] = "pairwise-7f3a", "rita"  # not configured
    with caplog.at_level(logging.INFO, logger="portal.login"):
        log_in(running)
    people = {person for person, _, _ in accounts(running)}
    assert len(people) == 2
    assert caplog.text.count("account bound: provider=rogue") == 1
    assert "how=login" in caplog.text


def test_a_person_from_before_issuer_keys_is_bound_once(
        rogue: RogueProvider, database_url: str, start_portal: StartPortal) -> None:
    running = start(rogue, database_url, start_portal)
    with running.portal.sessions() as db, db.begin():
        db.add(Person(id="0f6a1c8e-0000-4000-8000-000000000001", idp="rogue", subject="rita",
                      kind=PersonKind.PROFESSIONAL, display_name="Rita (legacy)",
                      active=True, created_at=datetime.now(UTC)))
    log_in(running)
    log_in(running)
    assert accounts(running) == [("0f6a1c8e-0000-4000-8000-000000000001", "rita", "legacy")]


@pytest.mark.parametrize(("claims", "role_claim"), [
    ({"realm_access": {"roles": ["offline_access", "ib"]}}, "realm_access.roles"),
    ({"groups": "mentor ib"}, "groups"),
    ({"https://school.example/roles": ["ib"]}, "https://school.example/roles"),
])
def test_role_claims_nested_space_separated_or_namespaced(
        rogue: RogueProvider, database_url: str, start_portal: StartPortal,
        claims: dict[str, Any], role_claim: str) -> None:
    del rogue.claims["roles"]
    rogue.claims.update(claims)
    running = start(rogue, database_url, start_portal, role_claim=role_claim)
    log_in(running)
    with running.portal.sessions() as db:
        roles = db.scalars(select(Membership.role).join(
            OidcAccount, OidcAccount.person_id == Membership.person_id)).all()
    assert [r.value for r in roles] == ["care_coordinator"]


def test_an_org_claim_nested_in_an_object(rogue: RogueProvider, database_url: str,
                                          start_portal: StartPortal) -> None:
    del rogue.claims["org"]
    rogue.claims["organisation"] = {"slug": "het-baken"}
    running = start(rogue, database_url, start_portal, org_claim="organisation.slug")
    log_in(running)
    assert len(accounts(running)) == 1


def test_a_role_claim_that_is_not_there_grants_nothing(
        rogue: RogueProvider, database_url: str, start_portal: StartPortal) -> None:
    del rogue.claims["roles"]
    rogue.claims["realm_access"] = {"roles": "ib"}
    running = start(rogue, database_url, start_portal, role_claim="resource_access.roles")
    refused = running.client().get("/login/rogue")
    assert refused.status_code == 400 and "no_role" in refused.text


def test_the_administrator_rebinds_a_changed_subject_from_the_command_line(
        rogue: RogueProvider, database_url: str, start_portal: StartPortal, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    running = start(rogue, database_url, start_portal)
    log_in(running)
    [(person, _, _)] = accounts(running)
    idps = tmp_path / "idps.json"
    idps.write_text(json.dumps([{"id": "rogue", "issuer": rogue.issuer, "client_id": "c",
                                 "client_secret": "s", "organisations": ["het-baken"]}]))
    monkeypatch.setenv("PORTAL_IDPS_FILE", str(idps))
    monkeypatch.setenv("PORTAL_DATABASE_URL", database_url)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path))

    assert main(["accounts", "rebind", "--provider", "rogue", "--from", "nobody",
                 "--to", "x"]) == 1
    assert "no person has subject 'nobody'" in capsys.readouterr().out
    assert main(["accounts", "rebind", "--provider", "rogue", "--from", "rita",
                 "--to", "pairwise-7f3a"]) == 0
    assert person in capsys.readouterr().out
    assert main(["accounts", "rebind", "--provider", "rogue", "--from", "rita",
                 "--to", "pairwise-7f3a"]) == 1
    assert "(nothing to do)" in capsys.readouterr().out

    rogue.subject = "pairwise-7f3a"
    log_in(running)
    assert sorted(accounts(running)) == sorted([(person, "rita", "login"),
                                                (person, "pairwise-7f3a", "rebind")])
    with running.portal.sessions() as db:
        moved = db.scalars(select(AccessRecord).where(
            AccessRecord.event_type == "auth.account_rebound")).all()
    assert [(r.object_id, r.user_name) for r in moved] == [
        (person, "operator (portal accounts rebind)")]


def test_a_subject_bound_to_somebody_else_is_not_taken_over(
        rogue: RogueProvider, database_url: str, start_portal: StartPortal) -> None:
    running = start(rogue, database_url, start_portal)
    log_in(running)
    rogue.subject = "someone-else"
    log_in(running)
    provider = running.portal.settings.identity_providers[0]
    with running.portal.sessions() as db, pytest.raises(RebindRefused, match="already bound"):
        rebind(db, provider, "rita", "someone-else", datetime.now(UTC))
